"""The subscribers of `python -m bench live`, in a process of their own.

Kept out of the runner, whose event loop also serves the emulator: a thousand sockets
read there delay the very polls being measured. Reads one JSON line on stdin,
`{"url": ..., "tokens": [one per subscriber]}`; writes `ready` once every subscription is
sent, then `<index> <monotonic seconds>` per event received (Linux's monotonic clock is
the same in every process, so the runner compares these with its own stamps).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import TextIO

import websockets

DOCUMENT = "subscription { evseStatusChanges { status evse { stationId evseId } } }"


async def subscribe(
    url: str, token: str, on_event: Callable[[], object], ready: asyncio.Event
) -> None:
    """One graphql-transport-ws subscriber; `on_event` is told of each event it receives."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        await socket.recv()  # connection_ack
        message = {"id": "1", "type": "subscribe", "payload": {"query": DOCUMENT}}
        await socket.send(json.dumps(message))
        ready.set()
        async for raw in socket:
            kind = json.loads(raw)["type"]
            if kind == "next":
                on_event()
            elif kind == "ping":
                await socket.send('{"type": "pong"}')


def _writer(out: TextIO, index: int) -> Callable[[], object]:
    return lambda: out.write(f"{index} {time.monotonic()}\n")


async def flush(out: TextIO) -> None:
    while True:  # often enough for the runner's 10 ms wait loop; the stamps are exact
        out.flush()
        await asyncio.sleep(0.005)


async def main() -> None:
    spec = json.loads(sys.stdin.readline())
    out = sys.stdout
    tasks = []
    for index, token in enumerate(spec["tokens"]):
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(subscribe(spec["url"], token, _writer(out, index), ready)))
        await ready.wait()
    out.write("ready\n")
    out.flush()
    flusher = asyncio.create_task(flush(out))
    await asyncio.gather(*tasks)
    flusher.cancel()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
