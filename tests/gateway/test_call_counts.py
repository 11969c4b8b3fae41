"""The fewest upstream calls: each query shape costs exactly its documented minimum.

Counts are read at the emulator, over real HTTP. An N+1 regression (one call per parent
where the contract allows a batch) changes a count and fails here.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

DASHBOARD = """
query Dashboard($first: Int!) {
  locations(first: $first) {
    nodes {
      id name
      stations {
        stationId name
        evses { evseId status currentTransaction { txId powerKw status } }
      }
    }
  }
}
"""


def calls(emulator: RunningEmulator) -> dict[str, int]:
    return {op: count for op, count in emulator.state.counters.items() if count}


def first_locations(emulator: RunningEmulator, n: int) -> list[Any]:
    return emulator.state.network.visible_locations(emulator.tenant_a)[:n]


async def test_dashboard_over_25_locations_costs_the_minimum(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    locations = first_locations(emulator, 25)
    assert len(locations) == 25, "the demo network must hold 25 locations for tenant A"
    network = emulator.state.network
    running = {
        station.station_id
        for location in locations
        for station in network.stations_at(location.uid)
        for evse in network.evses_of(station.station_id)
        if evse.tx_id is not None
    }
    assert running, "the demo network must have running sessions"

    emulator.state.reset()
    body = await gateway.query(DASHBOARD, {"first": 25}, token=emulator.token_a)

    assert "errors" not in body, body.get("errors")
    page_size = emulator.state.page_size
    assert calls(emulator) == {
        "getLocations": 1,
        "getNetworkStatus": ceil(25 / page_size),
        "listStations": ceil(len(running) / 100),
    }
    nodes = body["data"]["locations"]["nodes"]
    assert [node["id"] for node in nodes] == [location.uid for location in locations]
    for node, location in zip(nodes, locations, strict=True):
        expected = [station.station_id for station in network.stations_at(location.uid)]
        assert [station["stationId"] for station in node["stations"]] == expected
        for station in node["stations"]:
            for evse in station["evses"]:
                record = next(
                    e for e in network.evses_of(station["stationId"]) if e.evse_id == evse["evseId"]
                )
                current = evse["currentTransaction"]
                assert (current and current["txId"]) == record.tx_id


async def test_aliases_and_fragments_repeat_no_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    query = """
    fragment Evses on Station { stationId evses { evseId status } }
    query {
      a: locations(first: 10) { nodes { id stations { ...Evses } } }
      b: locations(first: 10) { nodes { id stations { ...Evses name } } }
      c: locations(first: 10) { edges { node { stations { ... on Station { access } } } } }
    }
    """
    emulator.state.reset()
    body = await gateway.query(query, token=emulator.token_a)
    assert "errors" not in body, body.get("errors")
    assert calls(emulator) == {
        "getLocations": 1,
        "getNetworkStatus": ceil(10 / emulator.state.page_size),
    }


async def test_inventory_fields_cost_one_call_per_location_and_no_status(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    body = await gateway.query(
        "{ locations(first: 6) { nodes { stations { stationId model firmwareVersion"
        " manufacturingInfo { serialNumber } operationalStatus } } } }",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert calls(emulator) == {"getLocations": 1, "getLocationStations": 6}
    network = emulator.state.network
    first = first_locations(emulator, 1)[0]
    expected = network.stations_at(first.uid)[0]
    station = body["data"]["locations"]["nodes"][0]["stations"][0]
    assert station["model"] == expected.model
    assert station["manufacturingInfo"]["serialNumber"] == expected.manufacturing.serial_number


async def test_live_and_inventory_fields_together_fetch_both_sources_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    body = await gateway.query(
        "{ locations(first: 4) { nodes { stations { model access evses { evseId } } } } }",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert calls(emulator) == {
        "getLocations": 1,
        "getNetworkStatus": ceil(4 / emulator.state.page_size),
        "getLocationStations": 4,
    }


async def test_status_tree_primes_later_station_and_evse_lookups(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    location = first_locations(emulator, 1)[0]
    emulator.state.reset()
    body = await gateway.query(
        """query($id: ID!) { location(id: $id) { id stations { stationId evses {
             evseId station { stationId access } location { id name } } } } }""",
        {"id": location.uid},
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert calls(emulator) == {"getLocation": 1, "getNetworkStatus": 1}
    for station in body["data"]["location"]["stations"]:
        for evse in station["evses"]:
            assert evse["station"]["stationId"] == station["stationId"]
            assert evse["location"]["id"] == location.uid


async def test_station_by_id_uses_the_stations_api_then_one_status_page(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    station = emulator.state.network.visible_stations(emulator.tenant_a)[3]
    emulator.state.reset()
    body = await gateway.query(
        "query($id: ID!) { station(id: $id) { stationId name access location { id } } }",
        {"id": station.station_id},
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert body["data"]["station"]["location"]["id"] == station.location_uid
    assert calls(emulator) == {"listStations": 1, "getNetworkStatus": 1, "getLocation": 1}


async def test_many_stations_by_id_batch_into_one_lookup(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    stations = emulator.state.network.visible_stations(emulator.tenant_a)[:12]
    aliases = " ".join(
        f's{i}: station(id: "{station.station_id}") {{ stationId name }}'
        for i, station in enumerate(stations)
    )
    emulator.state.reset()
    body = await gateway.query(f"{{ {aliases} }}", token=emulator.token_a)
    assert "errors" not in body, body.get("errors")
    uids = {station.location_uid for station in stations}
    assert calls(emulator) == {
        "listStations": 1,
        "getNetworkStatus": ceil(len(uids) / emulator.state.page_size),
    }


async def test_current_power_of_many_locations_is_one_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    body = await gateway.query(
        "{ locations(first: 30) { nodes { id currentPower { currentPowerKw sessionCount } } } }",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert calls(emulator) == {"getLocations": 1, "getCurrentlyUsedPower": 1}
    expected = {
        row.location_uid: row
        for row in emulator.state.network.currently_used_power(emulator.tenant_a)
    }
    for node in body["data"]["locations"]["nodes"]:
        assert node["currentPower"]["currentPowerKw"] == expected[node["id"]].current_power_kw
