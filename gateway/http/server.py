"""How the gateway is served: uvicorn, with every connection bounded in time and number.

Uvicorn has no timeout for a client that sends its request line and headers slowly (or
never), so 200 idle connections or a slowloris client could hold the server's sockets
for ever. `GuardedHttpToolsProtocol` closes a connection whose headers have not arrived
within `header_timeout_s` of it opening (or of the previous response). Bodies are bounded
by `CancelOnDisconnect` (`body_timeout_s`), keep-alive by uvicorn's own timeout, and the
number of connections by uvicorn's `limit_concurrency`; requests in flight by
`ConcurrencyLimit`, which answers 503 with a code and `Retry-After`.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.config import Settings
from gateway.live import LiveHub


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's headers."""

    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a request is closed too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Keep-alive: uvicorn's own timer closes an idle connection; ours starts again
        # with the next request's first byte (`on_message_begin`).

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class GatewayServer(uvicorn.Server):
    """uvicorn's server, ending live subscriptions as soon as its shutdown begins.

    uvicorn waits for connections to finish (up to `timeout_graceful_shutdown`) before it
    runs the app's lifespan shutdown. A WebSocket it closes itself, but an HTTP
    subscription stream (SSE, multipart) never finishes on its own: it would hold the
    shutdown for the whole timeout and then be cut without a word. Closing the live hub
    first makes each stream send a final `SHUTTING_DOWN` error and complete, so the drain
    ends as soon as the clients have read it.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # The lifespan's state holds what `create_app`'s lifespan yielded (`AppState`).
        live = self.lifespan.state.get("live")
        if isinstance(live, LiveHub):
            live.close()
        await super().shutdown(sockets)


def protocol_for(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_s": settings.header_timeout_s},
    )


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration the gateway runs with (the CLI's and the tests')."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_for(settings),
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "timeout_graceful_shutdown": settings.shutdown_timeout_s,
        # Forwarded headers are for a proxy the operator names; off, there is nothing to
        # trust (and uvicorn would parse every client address against its default list).
        "proxy_headers": False,
        "server_header": False,
        "access_log": False,
        "log_level": settings.log_level,
        # WebSockets (subscriptions) on the websockets library's sans-I/O core; uvicorn
        # pings each connection every 20 s on its own.
        "ws": "websockets-sansio",
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
