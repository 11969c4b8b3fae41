"""Relations whose keys are known before their parent arrives are asked for at once.

`location(id:)` knows the id its stations, EVSEs and power hang on; a page that will hold
every location can take its status trees from the whole-network walk. Their calls then
overlap the parent's call instead of queueing behind it. Shown at the emulator: the
answers of the parent and of the relation are both held back (a delay fault each) and the
emulator counts the requests it was answering at once: had the relation waited for its
parent, the two could not overlap.
The totals stay those of the call-count tests (no call twice).
"""

from __future__ import annotations

from math import ceil

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.gateway.test_call_counts import calls
from tests.support import RunningEmulator

HELD = Fault(kind="delay", delay_ms=1500)  # long enough for the other call to arrive
ONE = "query One($id: ID!) { location(id: $id) { name stations { stationId name } } }"


async def held(
    gateway: Gateway,
    emulator: RunningEmulator,
    children: tuple[str, ...],
    query: str,
    **variables: str,
) -> dict[str, int]:
    emulator.state.reset()
    for child in children:
        emulator.state.inject(child, HELD, times=1)
    body = await gateway.query(query, variables or None, token=emulator.token_a)
    assert "errors" not in body, body["errors"]
    return calls(emulator)


async def test_a_location_by_id_asks_for_its_stations_while_it_is_found(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    counted = await held(gateway, emulator, ("getLocation", "getNetworkStatus"), ONE, id=uid)
    assert counted == {"getLocation": 1, "getNetworkStatus": 1}
    assert emulator.state.max_in_flight == 2  # the status call did not wait for it


async def test_an_inventory_only_selection_asks_for_the_inventory_at_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    query = "query One($id: ID!) { location(id: $id) { stations { stationId model } } }"
    counted = await held(gateway, emulator, ("getLocation", "getLocationStations"), query, id=uid)
    assert counted == {"getLocation": 1, "getLocationStations": 1}
    assert emulator.state.max_in_flight == 2


async def test_a_location_by_id_asks_for_its_status_and_power_at_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    query = """query One($id: ID!) {
      location(id: $id) { name evses { evseId status } currentPower { currentPowerKw } }
    }"""
    counted = await held(
        gateway, emulator, ("getNetworkStatus", "getCurrentlyUsedPower"), query, id=uid
    )
    assert counted == {"getLocation": 1, "getNetworkStatus": 1, "getCurrentlyUsedPower": 1}
    assert emulator.state.max_in_flight == 3


ALL = "{ locations(first: 200) { nodes { name stations { stationId name evses { status } } } } }"


async def test_a_page_of_every_location_walks_the_status_while_the_list_comes(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    count = len(emulator.state.network.visible_locations(emulator.tenant_a))
    await gateway.query(ALL, token=emulator.token_a)  # the gateway learns the network's size
    counted = await held(gateway, emulator, ("getLocations", "getNetworkStatus"), ALL)
    pages = ceil(count / emulator.state.page_size)
    assert counted == {"getLocations": 1, "getNetworkStatus": pages}
    assert emulator.state.max_in_flight == 2


async def test_a_page_that_may_not_hold_every_location_waits_for_its_ids(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    query = "{ locations(first: 3) { nodes { stations { stationId name evses { status } } } } }"
    await gateway.query(query, token=emulator.token_a)
    await held(gateway, emulator, ("getLocations", "getNetworkStatus"), query)
    assert emulator.state.max_in_flight == 1  # nothing walked for ids not known yet
