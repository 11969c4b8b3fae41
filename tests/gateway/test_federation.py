"""The gateway as an Apollo Federation v2 subgraph: entities resolve through the loaders."""

from __future__ import annotations

from math import ceil

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Location { id name }
    ... on Station { stationId name }
    ... on Evse { stationId evseId status }
  }
}
"""


async def test_service_sdl_declares_the_entity_keys(gateway: Gateway) -> None:
    body = await gateway.query("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert 'type Location @key(fields: "id")' in sdl
    assert 'type Station @key(fields: "stationId")' in sdl
    assert 'type Evse @key(fields: "stationId evseId")' in sdl
    assert "federation/v2" in sdl


async def test_many_representations_cost_batched_calls(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    locations = network.visible_locations(emulator.tenant_a)[:12]
    stations = network.visible_stations(emulator.tenant_a)[:10]
    evse_station = stations[0]
    evses = network.evses_of(evse_station.station_id)
    representations = (
        [{"__typename": "Location", "id": loc.uid} for loc in locations]
        + [{"__typename": "Station", "stationId": s.station_id} for s in stations]
        + [{"__typename": "Evse", "stationId": e.station_id, "evseId": e.evse_id} for e in evses]
    )
    emulator.state.reset()
    body = await gateway.query(
        ENTITIES, {"representations": representations}, token=emulator.token_a
    )
    assert "errors" not in body, body.get("errors")
    entities = body["data"]["_entities"]
    assert [e["id"] for e in entities[:12]] == [loc.uid for loc in locations]
    assert [e["stationId"] for e in entities[12:22]] == [s.station_id for s in stations]
    assert [e["evseId"] for e in entities[22:]] == [e.evse_id for e in evses]
    station_locations = {s.location_uid for s in stations}
    assert {op: n for op, n in emulator.state.counters.items() if n} == {
        "getLocations": 1,
        "listStations": 1,
        "getNetworkStatus": ceil(len(station_locations) / emulator.state.page_size),
    }
