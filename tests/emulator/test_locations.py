"""Creating and updating locations: validation, tenancy of new rows, partial updates."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support import RunningEmulator, bearer

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SITE = {
    "name": "Keilaniemi Office Garage",
    "address": "Keilaranta 1",
    "city": "Espoo",
    "postalCode": "02150",
    "country": "Finland",
    "countryCode": "FI",
    "lat": 60.1757,
    "lng": 24.8295,
    "locationId": "CUST-0042",
    "bounds": [[24.829, 60.176], [24.830, 60.175]],
    "geo": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.83, 60.17]}}],
    "labels": [{"value": "Visitors welcome"}, {"value": "Ours", "tenantIds": ["tnt-voltra"]}],
    "positionEstimate": {"lat": 60.1756, "lng": 24.8294, "confidence": 0.9},
}


async def create(http: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await http.post("/locations", headers=bearer(token), json=body)


async def test_create_answers_an_id_and_stores_the_row(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    response = await create(http, emulator.token_a, {"location": SITE})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and UUID4.fullmatch(body["id"])
    row = (await http.get(f"/locations/{body['id']}", headers=bearer(emulator.token_a))).json()
    assert row["location"] == {
        "id": body["id"],
        "tenantIdCPO": emulator.tenant_a,
        "tenantIdEMSP": emulator.tenant_a,
        "tenantIds": [emulator.tenant_a],
        **SITE,
    }
    other = await http.get(f"/locations/{body['id']}", headers=bearer(emulator.token_b))
    assert other.status_code == 404
    assert emulator.state.counters["postLocation"] == 1


async def test_a_new_location_joins_the_network_views(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    uid = (await create(http, emulator.token_a, {"location": {"name": "Empty lot"}})).json()["id"]
    headers = bearer(emulator.token_a)
    only = {"locationUids": uid}
    status = await http.get("/locations/networkStatus", headers=headers, params=only)
    power = await http.get("/locations/currentlyUsedPower", headers=headers, params=only)
    assert status.json() == {"locations": [{"id": uid, "name": "Empty lot", "stations": []}]}
    assert power.json() == {
        "locations": [{"locationUid": uid, "currentPowerKw": 0, "sessionCount": 0}]
    }


async def test_create_with_a_station_copies_its_tenancy(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    shared = next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if emulator.tenant_b in loc.tenancy.ids
    )
    station = network.stations_at(shared.uid)[0]
    body = {"location": {"name": "Annex"}, "stationId": station.station_id}
    uid = (await create(http, emulator.token_a, body)).json()["id"]
    seen_by_b = await http.get(f"/locations/{uid}", headers=bearer(emulator.token_b))
    assert seen_by_b.status_code == 200
    assert seen_by_b.json()["location"]["tenantIds"] == list(shared.tenancy.ids)


async def test_create_with_an_invisible_station_is_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    b_only = next(loc for loc in network.locations if loc.tenancy.ids == (emulator.tenant_b,))
    station_id = network.stations_at(b_only.uid)[0].station_id
    for sid in (station_id, "no-such-station"):
        response = await create(http, emulator.token_a, {"location": {}, "stationId": sid})
        assert response.status_code == 400
        assert response.json() == {"message": f"Unknown stationId '{sid}'"}
    assert len(network.locations) == 30


@pytest.mark.parametrize(
    "body",
    [
        [SITE],
        "a string",
        {},
        {"location": None},
        {"location": "Helsinki"},
        {"location": {"lat": "60.17"}},
        {"location": {"lng": True}},
        {"location": {"lat": 91}},
        {"location": {"postalCode": "12345678901"}},
        {"location": {"postalCode": 2150}},
        {"location": {"countryCode": "FIN"}},
        {"location": {"bounds": [[24.8, 60.1]]}},
        {"location": {"geo": None}},
        {"location": {"labels": [{"text": "no value"}]}},
        {"location": {"labels": [{"value": "x", "tenantIds": "tnt-voltra"}]}},
        {"location": {"positionEstimate": {"confidence": "high"}}},
        {"location": {"postcode": "00100"}},
        {"location": {}, "stationId": 12},
        {"location": {}, "tenantIds": ["tnt-nordlink"]},
    ],
)
async def test_create_validates_like_a_real_api(
    http: httpx.AsyncClient, emulator: RunningEmulator, body: Any
) -> None:
    response = await create(http, emulator.token_a, body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert len(emulator.state.network.locations) == 30


async def test_create_refuses_a_body_that_is_not_json(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    headers = {**bearer(emulator.token_a), "Content-Type": "application/json"}
    for content in (b"{not json", b""):
        response = await http.post("/locations", headers=headers, content=content)
        assert response.status_code == 400
        assert response.json() == {"message": "Request body must be JSON"}


async def test_update_is_partial_and_null_clears(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    assert location.location_id is not None
    headers = bearer(emulator.token_a)
    change = {"location": {"id": location.uid, "name": "Renamed", "locationId": None}}
    response = await http.patch(f"/locations/{location.uid}", headers=headers, json=change)
    assert response.status_code == 200 and response.json() == {"success": True}
    row = (await http.get(f"/locations/{location.uid}", headers=headers)).json()["location"]
    assert row["name"] == "Renamed"
    assert "locationId" not in row
    assert (row["city"], row["lat"], row["address"]) == (
        location.city,
        location.lat,
        location.address,
    )
    assert emulator.state.counters["patchLocation"] == 1


async def test_update_refuses_another_id_and_bad_values(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    headers = bearer(emulator.token_a)
    for body in (
        {"location": {"id": "someone-else"}},
        {"location": {"lat": "north"}},
        {"name": "not wrapped"},
    ):
        response = await http.patch(f"/locations/{location.uid}", headers=headers, json=body)
        assert response.status_code == 400, body
    assert emulator.state.network.location(location.uid) == location


async def test_labels_hidden_from_the_caller_survive_its_update(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    location = next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if any(label.tenant_ids == (emulator.tenant_b,) for label in loc.labels or ())
    )
    hidden = [
        label.value for label in location.labels or () if not label.visible_to(emulator.tenant_a)
    ]
    change = {"location": {"labels": [{"value": "Fresh paint"}]}}
    await http.patch(f"/locations/{location.uid}", headers=bearer(emulator.token_a), json=change)
    as_a = await http.get(f"/locations/{location.uid}", headers=bearer(emulator.token_a))
    as_b = await http.get(f"/locations/{location.uid}", headers=bearer(emulator.token_b))
    assert [label["value"] for label in as_a.json()["location"]["labels"]] == ["Fresh paint"]
    assert hidden
    assert [label["value"] for label in as_b.json()["location"]["labels"]] == [
        *hidden,
        "Fresh paint",
    ]


async def test_reset_data_undoes_writes_and_reset_keeps_them(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    location = state.network.visible_locations(emulator.tenant_a)[0]
    headers = bearer(emulator.token_a)
    rename = {"location": {"name": "X"}}
    await http.patch(f"/locations/{location.uid}", headers=headers, json=rename)
    uid = (await create(http, emulator.token_a, {"location": {"name": "Y"}})).json()["id"]
    state.reset()
    assert state.network.location(uid) is not None and sum(state.counters.values()) == 0
    state.reset_data()
    assert state.network.location(uid) is None
    assert state.network.location(location.uid) == location
