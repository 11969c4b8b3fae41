"""`CancelOnDisconnect`: a request whose client has gone away stops working.

Neither uvicorn nor Starlette cancels an app when the client disconnects: the request
would run to its end and keep asking the upstream for pages nobody will read. This
middleware reads the request body first (so the app's reads never race its own), hands
it on, then listens for `http.disconnect` and cancels the app when it arrives. The app's
`finally` blocks run as usual, so the request's loaders end their upstream work too.
A body that has not arrived whole within `body_timeout_s` is answered 408.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp, *, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.body_timeout_s):
                body = await _whole_body(receive)
        except TimeoutError:  # a body trickling in: a slowloris client, or a broken one
            await _too_slow(send)
            return
        if body is None:  # gone before the body arrived
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            # The app asked for more than the body: only a disconnect can follow.
            return await receive()

        answered = False

        async def watching_send(message: Message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True

        app = asyncio.ensure_future(self.app(scope, replay, watching_send))
        watcher = asyncio.ensure_future(_disconnected(receive))
        try:
            done, _ = await asyncio.wait({app, watcher}, return_when=asyncio.FIRST_COMPLETED)
            # Once the answer is out, the server reports a disconnect too: that one is no
            # reason to cut what the app still does after answering.
            if app not in done and not answered:
                app.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await app
        finally:
            watcher.cancel()
            app.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _too_slow(send: Send) -> None:
    error = {
        "message": "The request body arrived too slowly.",
        "extensions": {"code": "REQUEST_TIMEOUT"},
    }
    body = json.dumps({"errors": [error]}).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _whole_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
