"""A request's upstream work ends with the request, and a failed load is not asked twice.

Both defend features that leave every other test green when removed: the scope that
cancels a request's pending loads (`gateway.loaders.scope.RequestScope`, closed by the
GraphQL view), and the failure cache of `RequestLoader`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

LATENCY_MS = 150


async def until(condition: Callable[[], bool]) -> None:
    """Poll a counter the emulator's server thread moves (no event crosses the threads)."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def test_a_client_that_disconnects_stops_the_walk_it_started(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    state = emulator.state
    pages = len(state.network.visible_locations(emulator.tenant_a))
    state.page_size = 1  # one page per location: a long walk
    state.latency_ms = LATENCY_MS
    state.reset()

    request = asyncio.ensure_future(
        gateway.query("{ networkSummary { stationCount } }", token=emulator.token_a)
    )
    await until(lambda: state.counters["getNetworkStatus"] >= 2)
    request.cancel()  # the client closes its connection mid-walk
    with contextlib.suppress(asyncio.CancelledError):
        await request
    at_disconnect = state.counters["getNetworkStatus"]

    # Long enough for several more pages, were the walk still going.
    await asyncio.sleep(6 * LATENCY_MS / 1000)
    assert state.counters["getNetworkStatus"] <= at_disconnect + 1  # at most one in flight
    assert state.counters["getNetworkStatus"] < pages


async def test_a_failed_load_asked_again_in_a_later_tick_is_not_refetched(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    state = emulator.state
    network = state.network
    location = next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if network.visible_transactions(emulator.tenant_a, [loc.uid])
    )
    state.reset()
    state.inject("getNetworkStatus", Fault(kind="status", status=503), times=None)
    # The transactions answer arrives well after the status walk has failed, so the
    # EVSE lookups of its rows ask for the failed status tree in a later tick.
    state.inject("getNetworkTransactions", Fault(kind="delay", delay_ms=1500))
    body = await gateway.query(
        """query($id: ID!) {
             location(id: $id) { evses { evseId } }
             transactions(first: 3, filter: {locationIds: [$id]}) { nodes { evse { evseId } } }
        }""",
        {"id": location.uid},
        token=emulator.token_a,
    )

    assert body["data"]["location"] == {"evses": None}
    nodes = body["data"]["transactions"]["nodes"]
    assert nodes and all(node["evse"] is None for node in nodes)
    # One failed walk (with the client's retries), shared by every later lookup.
    assert state.counters["getNetworkStatus"] == gateway.settings.upstream_retry_attempts
