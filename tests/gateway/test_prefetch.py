"""Relations whose keys are known before their parent arrives are asked for at once.

`location(id:)` knows the id its stations, EVSEs and power hang on; a page that will hold
every location can take its status trees from the whole-network walk. Their calls then
overlap the parent's call instead of queueing behind it. Shown by a parent call that
fails: the relation's call has reached the upstream all the same, because it never waited.
The totals stay those of the call-count tests (no call twice, none beyond the estimate).
"""

from __future__ import annotations

from math import ceil

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.gateway.test_call_counts import calls
from tests.support import RunningEmulator

ONE = "query One($id: ID!) { location(id: $id) { name stations { stationId name } } }"
ONE_LIVE = """query One($id: ID!) {
  location(id: $id) { name evses { evseId status } currentPower { currentPowerKw } }
}"""
ALL = "{ locations(first: 200) { nodes { name stations { stationId name evses { status } } } } }"


async def test_a_location_by_id_asks_for_its_stations_without_waiting_for_it(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    emulator.state.reset()
    body = await gateway.query(ONE, {"id": uid}, token=emulator.token_a)
    assert body["data"]["location"]["stations"]
    assert calls(emulator) == {"getLocation": 1, "getNetworkStatus": 1}

    emulator.state.reset()
    emulator.state.inject("getLocation", Fault(status=400), times=1)  # not retried
    body = await gateway.query(ONE, {"id": uid}, token=emulator.token_a)
    assert body["data"]["location"] is None
    assert calls(emulator) == {"getLocation": 1, "getNetworkStatus": 1}
    assert len(body["errors"]) == 1  # the stations' answer, unread, adds no error


async def test_an_inventory_only_selection_asks_for_the_inventory_at_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    query = "query One($id: ID!) { location(id: $id) { stations { stationId model } } }"
    emulator.state.reset()
    emulator.state.inject("getLocation", Fault(status=400), times=1)
    await gateway.query(query, {"id": uid}, token=emulator.token_a)
    assert calls(emulator) == {"getLocation": 1, "getLocationStations": 1}


async def test_a_location_by_id_asks_for_its_status_and_power_at_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    emulator.state.reset()
    emulator.state.inject("getLocation", Fault(status=400), times=1)
    await gateway.query(ONE_LIVE, {"id": uid}, token=emulator.token_a)
    assert calls(emulator) == {
        "getLocation": 1,
        "getNetworkStatus": 1,
        "getCurrentlyUsedPower": 1,
    }


async def test_a_page_of_every_location_walks_the_status_without_waiting_for_the_list(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    count = len(emulator.state.network.visible_locations(emulator.tenant_a))
    pages = ceil(count / emulator.state.page_size)
    await gateway.query(ALL, token=emulator.token_a)  # the gateway learns the network's size
    emulator.state.reset()
    body = await gateway.query(ALL, token=emulator.token_a)
    assert len(body["data"]["locations"]["nodes"]) == count
    assert calls(emulator) == {"getLocations": ceil(count / 50) or 1, "getNetworkStatus": pages}

    emulator.state.reset()
    emulator.state.inject("getLocations", Fault(status=400), times=1)
    body = await gateway.query(ALL, token=emulator.token_a)
    assert body["data"]["locations"] is None
    # The walk had begun; the failed request's end then stopped it (its scope closed).
    assert calls(emulator)["getNetworkStatus"] >= 1


async def test_a_page_that_may_not_hold_every_location_waits_for_its_ids(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    query = "{ locations(first: 3) { nodes { stations { stationId name evses { status } } } } }"
    await gateway.query(query, token=emulator.token_a)
    emulator.state.reset()
    emulator.state.inject("getLocations", Fault(status=400), times=1)
    await gateway.query(query, token=emulator.token_a)
    assert calls(emulator) == {"getLocations": 1}  # nothing walked for ids not known yet
