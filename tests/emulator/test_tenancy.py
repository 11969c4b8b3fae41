"""Tenancy: a row is seen only by the tenants it lists, nested rows follow their location,
invisible ids answer like unknown ones, and labels are censored per tenant."""

from __future__ import annotations

import httpx

from tests.emulator.helpers import get, walk
from tests.support import RunningEmulator, bearer


def readers(emulator: RunningEmulator) -> dict[str, set[str]]:
    """Location uid -> who may read it, in the letters of the fixture (a, b, c)."""
    letters = {emulator.tenant_a: "a", emulator.tenant_b: "b", emulator.tenant_c: "c"}
    return {
        loc.uid: {letters[t] for t in loc.tenancy.ids} for loc in emulator.state.network.locations
    }


def test_the_seed_shares_sites_in_every_pattern(emulator: RunningEmulator) -> None:
    patterns = {"".join(sorted(who)) for who in readers(emulator).values()}
    assert {"a", "ab", "ac", "b"} <= patterns


async def test_a_never_sees_b_only_rows(raw: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    emulator.state.page_size = 100
    network = emulator.state.network
    hidden = {uid for uid, who in readers(emulator).items() if who == {"b"}}
    hidden_stations = {s.station_id for uid in hidden for s in network.stations_at(uid)}
    assert hidden and hidden_stations
    token = emulator.token_a

    listed = (await get(raw, "/locations", token)).json()["locations"]
    status, _ = await walk(raw, "/locations/networkStatus", token)
    power = (await get(raw, "/locations/currentlyUsedPower", token)).json()["locations"]
    errors, _ = await walk(raw, "/locations/networkHardwareErrors", token)
    sessions, _ = await walk(raw, "/locations/problematicSessions", token)
    window = {"startDate": "2025-05-28"}
    txs, _ = await walk(raw, "/locations/networkTransactions", token, window)
    stations = (await get(raw, "/stations", token)).json()["stations"]

    assert not {row["id"] for row in listed} & hidden
    assert not {row["id"] for row in status} & hidden
    assert not {s["stationId"] for row in status for s in row["stations"]} & hidden_stations
    assert not {row["locationUid"] for row in power} & hidden
    assert not {row["stationId"] for row in errors} & hidden_stations
    assert not {row["locationUid"] for row in sessions} & hidden
    assert not {row["locationUid"] for row in txs} & hidden
    assert not {row["stationId"] for row in stations} & hidden_stations

    uid = sorted(hidden)[0]
    station_id = network.stations_at(uid)[0].station_id
    by_uid = (await get(raw, "/stations", token, {"locationUid": uid})).json()
    by_id = (await get(raw, "/stations", token, {"stationIds": station_id})).json()
    filtered = await get(raw, "/locations/currentlyUsedPower", token, {"locationUids": uid})
    assert by_uid == by_id == {"stations": []}
    assert filtered.json() == {"locations": []}


async def test_b_sees_its_own_and_shared_sites_only(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    listed = (await get(http, "/locations", emulator.token_b)).json()["locations"]
    expected = [uid for uid, who in readers(emulator).items() if "b" in who]
    assert [row["id"] for row in listed] == expected
    assert all(emulator.tenant_b in row["tenantIds"] for row in listed)


async def test_c_sees_the_sites_it_maintains(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    listed = (await get(http, "/locations", emulator.token_c)).json()["locations"]
    expected = [uid for uid, who in readers(emulator).items() if "c" in who]
    assert [row["id"] for row in listed] == expected
    assert all(row["tenantIdMaintenance"] == emulator.tenant_c for row in listed)


async def test_invisible_answers_like_unknown(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    hidden = next(uid for uid, who in readers(emulator).items() if who == {"b"})
    headers = bearer(emulator.token_a)
    for uid in (hidden, "00000000-0000-4000-8000-000000000000"):
        answers = [
            await http.get(f"/locations/{uid}", headers=headers),
            await http.get(f"/locations/{uid}/stations", headers=headers),
            await http.patch(
                f"/locations/{uid}", headers=headers, json={"location": {"name": "Mine now"}}
            ),
        ]
        assert [a.status_code for a in answers] == [404, 404, 404]
        assert all(a.json() == {"message": f"Location '{uid}' not found"} for a in answers)
    location = emulator.state.network.location(hidden)
    assert location is not None and location.name != "Mine now"


async def test_labels_are_censored_per_tenant(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    for letter in "abc":
        tenant = getattr(emulator, f"tenant_{letter}")
        rows = (await get(http, "/locations", getattr(emulator, f"token_{letter}"))).json()
        for row in rows["locations"]:
            location = network.location(row["id"])
            assert location is not None
            expected = [label.value for label in location.labels or () if label.visible_to(tenant)]
            assert [label["value"] for label in row.get("labels", [])] == expected
            for label in row.get("labels", []):
                assert "tenantIds" not in label or tenant in label["tenantIds"]
    # The demo has labels meant for one tenant on rows another tenant reads.
    restricted = [
        (loc, label)
        for loc in network.locations
        for label in loc.labels or ()
        if label.tenant_ids is not None and set(loc.tenancy.ids) - set(label.tenant_ids)
    ]
    assert restricted


async def test_station_labels_are_censored_too(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    station = next(
        s
        for s in network.stations
        if any(label.tenant_ids == (emulator.tenant_c,) for label in s.labels)
    )
    assert emulator.tenant_a in station.tenancy.ids
    for token, tenant in ((emulator.token_a, emulator.tenant_a), (emulator.token_c, None)):
        inventory = await get(http, f"/locations/{station.location_uid}/stations", token)
        live = await get(http, "/stations", token, {"stationIds": station.station_id})
        rows = [
            next(r for r in inventory.json()["stations"] if r["stationId"] == station.station_id),
            live.json()["stations"][0],
        ]
        for row in rows:
            values = [label["value"] for label in row.get("labels", [])]
            assert ("Warranty case open" in values) is (tenant is None)
