"""A WebSocket client that stops reading: once the socket's buffers are full the gateway's
sends wait, and what waits is each subscriber's queue, one latest event per EVSE (counted
at the hub, not guessed from memory). When the client reads again it gets each EVSE's
latest state."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

from tests.live.conftest import WAIT_S, LiveGateway, live_gateway
from tests.live.oracle import EvseKey, evse_states, wire_name
from tests.support import RunningEmulator

PROTOCOL = "graphql-transport-ws"
OPERATIONS = 2
DOCUMENT = (
    "subscription { evseStatusChanges(includeInitial: true) "
    "{ status txStatus txId evse { stationId evseId } } }"
)
BUFFER = 8192  # bytes of kernel buffer at each end: the initial states alone overflow it
State = tuple[str | None, str | None, str | None]


def small_socket(url: str) -> socket.socket:
    """A connected loopback socket with a small receive buffer."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.setblocking(False)
    return sock


def pending(gateway: LiveGateway) -> list[int]:
    """Events waiting in each live subscriber's queue."""
    return [len(s.queue) for c in gateway.live.cohorts() for s in c.subscribers]


async def open_stalled(gateway: LiveGateway) -> ClientConnection:
    client = await connect(
        gateway.ws_url,
        sock=small_socket(gateway.url),
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        max_queue=1,  # the client library reads ahead one message, no more
        compression=None,  # deflate would shrink these repetitive events tenfold
    )
    init = {"Authorization": f"Bearer {gateway.emulator.token_a}"}
    await client.send(json.dumps({"type": "connection_init", "payload": init}))
    assert json.loads(await asyncio.wait_for(client.recv(), WAIT_S))["type"] == "connection_ack"
    for n in range(OPERATIONS):
        subscribe = {"id": str(n), "type": "subscribe", "payload": {"query": DOCUMENT}}
        await client.send(json.dumps(subscribe))
    return client


def state_of(change: dict[str, Any]) -> State:
    return (wire_name(change["status"]), wire_name(change["txStatus"]), change["txId"])


async def test_a_client_that_stops_reading_holds_one_latest_event_per_evse(
    emulator: RunningEmulator,
) -> None:
    evses = len(evse_states(emulator, emulator.tenant_a))
    async with live_gateway(emulator, send_buffer=BUFFER) as gateway:
        client = await open_stalled(gateway)
        try:
            await gateway.until_subscriptions(OPERATIONS)
            stalled = 0
            for _ in range(15):  # the client reads nothing meanwhile
                await gateway.advance(10)
                await gateway.settle()
                waiting = pending(gateway)
                assert max(waiting) <= evses  # bounded by the network, however many steps
                stalled += min(waiting) > 0
            assert stalled == 15, "the sends never waited: the test proved nothing"
            assert gateway.live.stats.events > sum(pending(gateway))  # coalesced
            # Reading again: per operation, the last event of each EVSE is its state now.
            now = evse_states(emulator, emulator.tenant_a)
            seen: dict[str, dict[EvseKey, State]] = {}

            async def read_until_current() -> None:
                while len(seen) < OPERATIONS or any(view != now for view in seen.values()):
                    message = json.loads(await client.recv())
                    if message["type"] == "next":
                        change = message["payload"]["data"]["evseStatusChanges"]
                        key = (change["evse"]["stationId"], change["evse"]["evseId"])
                        seen.setdefault(message["id"], {})[key] = state_of(change)

            await asyncio.wait_for(read_until_current(), WAIT_S)
            assert sum(pending(gateway)) == 0
        finally:
            await client.close()
        await gateway.until_cohorts(0)
