"""A loopback HTTP/1.1 server that answers with scripted raw bytes.

The emulator only gives answers a well-behaved server gives (or drops the connection);
this one gives what a broken one does (a body cut short, a status line that is no HTTP,
a Set-Cookie, a redirect) and counts what arrived: requests, their raw heads, and
connections (all of them, and the most open at once), so transports are compared by
what reached the far side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tests.support import loopback_socket


@dataclass(frozen=True)
class Answer:
    """What the server writes for one request; `close` drops the connection after it,
    `wait` holds the answer until set (while the connection stays open)."""

    data: bytes
    close: bool = False
    wait: asyncio.Event | None = None


def answer(
    status: int = 200,
    body: bytes = b'{"locations": []}',
    *,
    headers: tuple[tuple[str, str], ...] = (),
    length: int | None = None,
    close: bool = False,
    wait: asyncio.Event | None = None,
) -> Answer:
    """A well-framed answer, unless `length` declares another size than `body`'s."""
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body) if length is None else length}"]
    lines += [f"{name}: {value}" for name, value in headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return Answer(head + body, close=close, wait=wait)


@dataclass(frozen=True)
class Received:
    head: bytes  # request line and headers, as sent
    body: bytes

    @property
    def target(self) -> str:
        return self.head.split(b" ", 2)[1].decode()

    def headers(self) -> dict[str, str]:
        """Header names lowercased (each appears once in what the transports send)."""
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        pairs = (line.split(":", 1) for line in lines if line)
        return {name.strip().lower(): value.strip() for name, value in pairs}


@dataclass
class RawUpstream:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    _script: list[Answer] = field(default_factory=lambda: [answer()])
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reply(self, *answers: Answer) -> RawUpstream:
        """Answer with these in turn; the last one repeats."""
        self._script = list(answers)
        return self

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait until `done()` holds, checked whenever a request or a connection comes or
        goes."""
        while not done():
            self._changed.clear()
            await self._changed.wait()

    def _next(self) -> Answer:
        return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self._writers.add(writer)
        self._changed.set()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                size = _content_length(head)
                body = await reader.readexactly(size) if size else b""
                self.received.append(Received(head, body))
                self._changed.set()
                reply = self._next()
                if reply.wait is not None:
                    await reply.wait.wait()
                writer.write(reply.data)
                await writer.drain()
                if reply.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            self.open_now -= 1
            self._writers.discard(writer)
            writer.close()
            self._changed.set()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@asynccontextmanager
async def raw_upstream() -> AsyncIterator[RawUpstream]:
    upstream = RawUpstream()
    server = await asyncio.start_server(upstream._serve, sock=loopback_socket())
    port = server.sockets[0].getsockname()[1]
    upstream.url = f"http://127.0.0.1:{port}/api"
    try:
        yield upstream
    finally:
        server.close()
        for writer in list(upstream._writers):
            writer.close()
        await server.wait_closed()
