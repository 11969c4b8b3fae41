"""Response compression: brotli or gzip, as `Accept-Encoding` prefers, for bodies worth it.

Starlette's responders do the message plumbing (small bodies pass through, streams are
flushed per chunk, already-encoded bodies are left alone); this module adds brotli, a real
`q`-value negotiation instead of a substring test, and `Vary: Accept-Encoding` on every
answer, compressed or not, so that a cache never hands a compressed body to a client that
cannot read it (nor the reverse).
"""

from __future__ import annotations

from typing import Protocol

import anyio.to_thread
import brotli  # type: ignore[import-untyped]  # the package ships no type information
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.negotiation import content_coding

CODINGS = ("br", "gzip")  # server preference: brotli is smaller at the same speed
# Measured on a 120 kB answer: quality 4 is 9 % smaller than gzip -6 and as fast;
# quality 11 is another 12 % smaller but 100 times slower, a level for static assets.
BROTLI_QUALITY = 4
GZIP_LEVEL = 6  # zlib's default: within 2 % of level 9 in half the time
THREAD_MINIMUM_SIZE = 128 * 1024  # compress bigger chunks off the event loop


class CompressionMiddleware:
    """Compress response bodies of at least `minimum_size` bytes."""

    def __init__(self, app: ASGIApp, *, minimum_size: int) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
        coding = content_coding(accept_encoding, CODINGS)
        responder: IdentityResponder
        if coding == "br":
            responder = BrotliResponder(self.app, self.minimum_size)
        elif coding == "gzip":
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=GZIP_LEVEL)
        else:
            responder = IdentityResponder(self.app, self.minimum_size)
        await responder(scope, receive, _varying(send))


class _Coder(Protocol):
    def process(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class BrotliResponder(IdentityResponder):
    """Starlette's compression plumbing with a brotli stream as the coder."""

    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        super().__init__(app, minimum_size)
        self._coder: _Coder | None = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= THREAD_MINIMUM_SIZE:
            return await anyio.to_thread.run_sync(self._compress, body, more_body)
        return self._compress(body, more_body)

    def _compress(self, body: bytes, more_body: bool) -> bytes:
        # Made on first use: a body below `minimum_size` never pays for a coder.
        if self._coder is None:
            self._coder = brotli.Compressor(quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
        coder = self._coder
        compressed = coder.process(body)
        return compressed + (coder.flush() if more_body else coder.finish())


def _varying(send: Send) -> Send:
    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            vary = ",".join(headers.getlist("vary"))
            tokens = {token.strip().lower() for token in vary.split(",")}
            if "accept-encoding" not in tokens:
                headers.add_vary_header("Accept-Encoding")
        await send(message)

    return send_varying
