"""Filters: array parameters in both encodings (and mixtures), date windows, enum values,
and the refusal of anything a careful API would refuse."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from tests.emulator.helpers import get, walk
from tests.support import RunningEmulator


def three_uids(emulator: RunningEmulator) -> list[str]:
    return [loc.uid for loc in emulator.state.network.visible_locations(emulator.tenant_a)[2:5]]


def encodings(name: str, values: list[str]) -> list[list[tuple[str, str]]]:
    """The same array as repeated keys, as one comma-separated value, and mixed."""
    return [
        [(name, value) for value in values],
        [(name, ",".join(values))],
        [(name, ",".join(values[:2])), *[(name, value) for value in values[2:]]],
    ]


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/locations/networkStatus", "id"),
        ("/locations/networkHardwareErrors", "stationId"),
        ("/locations/problematicSessions", "locationUid"),
        ("/locations/networkTransactions", "locationUid"),
    ],
)
async def test_location_filter_in_every_encoding(
    raw: httpx.AsyncClient, emulator: RunningEmulator, path: str, key: str
) -> None:
    emulator.state.page_size = 200
    network = emulator.state.network
    uids = three_uids(emulator)
    stations_there = {s.station_id for uid in uids for s in network.stations_at(uid)}
    dated = path.endswith(("problematicSessions", "networkTransactions"))
    window = [("startDate", "2025-05-29")] if dated else []
    answers = []
    for params in encodings("locationUids", uids):
        rows, _ = await walk(raw, path, emulator.token_a, [*params, *window])
        assert rows, params
        values = {row[key] for row in rows}
        assert values <= (stations_there if key == "stationId" else set(uids))
        answers.append(rows)
    assert answers[0] == answers[1] == answers[2]


async def test_hardware_errors_are_placed_through_their_station(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 200
    network = emulator.state.network
    uids = three_uids(emulator)
    expected = network.visible_hardware_errors(emulator.tenant_a, uids)
    rows, _ = await walk(
        raw, "/locations/networkHardwareErrors", emulator.token_a, {"locationUids": uids}
    )
    assert [row["alert"]["id"] for row in rows] == [e.alert_id for e in expected]
    placed = {row["stationId"]: network.station(row["stationId"]) for row in rows}
    assert all(s is not None and s.location_uid in uids for s in placed.values())


async def test_currently_used_power_matches_the_charging_evses(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 100
    status, _ = await walk(http, "/locations/networkStatus", emulator.token_a)
    power = (await get(http, "/locations/currentlyUsedPower", emulator.token_a)).json()
    by_uid = {row["locationUid"]: row for row in power["locations"]}
    assert list(by_uid) == [row["id"] for row in status]
    for location in status:
        evses = [evse for station in location["stations"] for evse in station["evses"]]
        running = [evse for evse in evses if "txId" in evse]
        charging = [evse for evse in evses if evse["status"] == "Charging"]
        assert by_uid[location["id"]]["sessionCount"] == len(running)
        assert all(evse.get("txStatus") == "Charging" for evse in charging)
    assert any(row["currentPowerKw"] > 0 for row in by_uid.values())
    uids = three_uids(emulator)
    for params in encodings("locationUids", uids):
        rows = (await get(http, "/locations/currentlyUsedPower", emulator.token_a, params)).json()
        assert [row["locationUid"] for row in rows["locations"]] == uids


async def test_date_window_is_start_inclusive_end_exclusive(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 500
    network = emulator.state.network
    pivot = network.visible_transactions(emulator.tenant_a)[40]
    stamp = pivot.start.isoformat().replace("+00:00", "Z")
    after, _ = await walk(
        raw, "/locations/networkTransactions", emulator.token_a, {"startDate": stamp}
    )
    before, _ = await walk(
        raw,
        "/locations/networkTransactions",
        emulator.token_a,
        {"endDate": stamp, "startDate": "2025-05-31"},
    )
    assert pivot.tx_id in {row["txId"] for row in after}
    assert pivot.tx_id not in {row["txId"] for row in before}
    assert all(datetime.fromisoformat(row["startTime"]) >= pivot.start for row in after)
    assert all(datetime.fromisoformat(row["startTime"]) < pivot.start for row in before)


async def test_dates_and_date_times_agree(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 500
    path = "/locations/problematicSessions"
    by_date, _ = await walk(
        raw, path, emulator.token_a, {"startDate": "2025-05-25", "endDate": "2025-05-28"}
    )
    by_time, _ = await walk(
        raw,
        path,
        emulator.token_a,
        {"startDate": "2025-05-25T00:00:00.000Z", "endDate": "2025-05-28T02:00:00+02:00"},
    )
    assert by_date == by_time and by_date
    start = datetime.fromisoformat("2025-05-25T00:00:00+00:00")
    end = datetime.fromisoformat("2025-05-28T00:00:00+00:00")
    expected = emulator.state.network.visible_sessions(emulator.tenant_a, None, start, end)
    assert [row["transaction"]["txId"] for row in by_date] == [
        s.transaction.tx_id for s in expected
    ]


async def test_classification_filter_in_every_encoding(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 500
    kinds = ["HANDSHAKE_FAIL", "LOW_POWER", "ABRUPT_STOP"]
    start = datetime.fromisoformat("2025-05-20T00:00:00+00:00")
    expected = emulator.state.network.visible_transactions(
        emulator.tenant_a, start=start, classifications=kinds
    )
    assert expected
    for params in encodings("technicalFailClassification", kinds):
        rows, _ = await walk(
            raw,
            "/locations/networkTransactions",
            emulator.token_a,
            [*params, ("startDate", "2025-05-20")],
        )
        assert [row["txId"] for row in rows] == [tx.tx_id for tx in expected]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/locations/networkTransactions", {"startDate": "yesterday"}),
        ("/locations/networkTransactions", {"endDate": "2025/06/01"}),
        ("/locations/networkTransactions", {"startDate": "2025-13-01"}),
        ("/locations/problematicSessions", {"endDate": "12:00"}),
        ("/locations/networkTransactions", {"technicalFailClassification": "OK,SOMETIMES"}),
        ("/locations/networkTransactions", {"locationUids": "a,,b"}),
        ("/locations/networkStatus", {"locationUid": "a"}),  # singular is /stations' name
        ("/locations/networkStatus", {"pageSize": "50"}),
        ("/locations/currentlyUsedPower", {"paginationToken": "x"}),
        ("/stations", [("locationUid", "a"), ("locationUid", "b")]),
        ("/stations", {"locationUids": "a"}),
    ],
)
async def test_bad_parameters_are_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator, path: str, params: object
) -> None:
    response = await get(http, path, emulator.token_a, params)
    assert response.status_code == 400
    assert response.json()["message"]


async def test_stations_filters_combine(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    network = emulator.state.network
    first, second = network.visible_locations(emulator.tenant_a)[:2]
    here = [s.station_id for s in network.stations_at(first.uid)]
    there = [s.station_id for s in network.stations_at(second.uid)]
    wanted = [here[0], there[0], "no-such-station"]

    async def ids(params: object) -> list[str]:
        body = (await get(http, "/stations", emulator.token_a, params)).json()
        return [row["stationId"] for row in body["stations"]]

    assert await ids({"locationUid": first.uid}) == here
    for params in encodings("stationIds", wanted):
        assert await ids(params) == [here[0], there[0]]
    assert await ids([*encodings("stationIds", wanted)[0], ("locationUid", first.uid)]) == [here[0]]
    assert await ids({"locationUid": "no-such-location"}) == []
    everything = await ids(None)
    assert everything == [s.station_id for s in network.visible_stations(emulator.tenant_a)]
