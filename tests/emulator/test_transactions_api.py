"""The Transactions API: a station's transactions (paged by `lastEvaluatedKey` and
`exclusiveStartKey`, windowed, summarised) and one transaction by id; both follow their
station's location for tenancy, and are counted, authenticated and faulted like every
other operation. The `http` client checks each answer against transactions-openapi.yaml."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openapi_core.validation.response.exceptions import InvalidData

from gateway.emulator import Fault
from gateway.emulator.records import Station, Transaction
from gateway.emulator.wire import format_instant
from tests.emulator.helpers import walk
from tests.support import RunningEmulator, bearer, contract

LIST = "/chargingStations/{}/transactions"
KEY_FIELDS = {"txId", "stationId", "startTime"}


def busy_station(emulator: RunningEmulator, tenant_id: str, at_least: int = 30) -> Station:
    """A station `tenant_id` sees with at least `at_least` transactions."""
    network = emulator.state.network
    return next(
        station
        for station in network.visible_stations(tenant_id)
        if len(network.station_transactions(tenant_id, station.station_id)) >= at_least
    )


def only_visible_to(emulator: RunningEmulator, tenant_id: str, hidden_from: str) -> Station:
    """A station at a location `tenant_id` sees and `hidden_from` does not."""
    network = emulator.state.network
    seen = {loc.uid for loc in network.visible_locations(hidden_from)}
    return next(
        station
        for station in network.visible_stations(tenant_id)
        if station.location_uid not in seen
        and network.station_transactions(tenant_id, station.station_id)
    )


async def walk_station(
    client: httpx.AsyncClient, station_id: str, token: str, params: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of a station's list, following lastEvaluatedKey; and the page bodies."""
    rows: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    query = dict(params or {})
    while True:
        response = await client.get(LIST.format(station_id), params=query, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        rows.extend(body["transactions"])
        key = body.get("lastEvaluatedKey")
        if key is None:
            return rows, pages
        query["exclusiveStartKey"] = json.dumps(key)


def ids(txs: list[Transaction]) -> list[str]:
    return [tx.tx_id for tx in txs]


# --- conformance ---------------------------------------------------------------------------


async def test_both_operations_answer_per_contract(
    http: httpx.AsyncClient, emulator: RunningEmulator, checked: list[tuple[str, str, int]]
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    headers = bearer(emulator.token_a)
    page = await http.get(LIST.format(station.station_id), headers=headers)
    assert page.status_code == 200
    tx_id = page.json()["transactions"][0]["txId"]
    one = await http.get(f"/transactions/{tx_id}", headers=headers)
    assert one.status_code == 200
    assert one.json() == {"transaction": page.json()["transactions"][0]}
    assert [status for *_, status in checked] == [200, 200]
    assert [path for _, path, _ in checked] == [
        LIST.format(station.station_id),
        f"/transactions/{tx_id}",
    ]


async def test_the_contract_is_closed_to_fields_it_does_not_name(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    response = await http.get(LIST.format(station.station_id), headers=bearer(emulator.token_a))
    body = response.json()
    body["transactions"][0]["vehicleColour"] = "red"
    forged = httpx.Response(200, json=body, request=response.request)
    with pytest.raises(InvalidData) as caught:
        contract().validate(forged)
    assert "'vehicleColour' was unexpected" in str(caught.value.__cause__)


async def test_running_sessions_carry_no_end_and_no_verdict(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    now = emulator.state.now
    running = next(
        tx
        for tx in network.visible_transactions(emulator.tenant_a)
        if tx.end is None and tx.status == "Charging"
    )
    response = await http.get(f"/transactions/{running.tx_id}", headers=bearer(emulator.token_a))
    row = response.json()["transaction"]
    assert "endTime" not in row and "technicalFailClassification" not in row
    assert row["status"] == "Charging"
    assert row["stationId"] == running.station_id and row["evseId"] == running.evse_id
    assert row["powerKw"] == running.power_kw
    elapsed = round((now - running.start).total_seconds() * 1000)
    assert row["sessionDurationMs"] == row["chargingDurationMs"] == elapsed
    evse = next(e for e in network.evses_of(running.station_id) if e.evse_id == running.evse_id)
    assert (row["evseName"], row["evseType"]) == (evse.name, evse.type)
    assert evse.tx_id == running.tx_id  # the live EVSE shows the same session


# --- paging --------------------------------------------------------------------------------


async def test_a_walk_crosses_pages_and_returns_every_row_once_in_order(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 7
    station = busy_station(emulator, emulator.tenant_a)
    expected = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)
    rows, pages = await walk_station(http, station.station_id, emulator.token_a)
    assert [row["txId"] for row in rows] == ids(expected)
    assert len(pages) == math.ceil(len(expected) / 7) > 2
    assert {row["stationId"] for row in rows} == {station.station_id}
    for page in pages[:-1]:
        assert len(page["transactions"]) == 7
        last = page["transactions"][-1]
        assert page["lastEvaluatedKey"] == {
            "txId": last["txId"],
            "stationId": station.station_id,
            "startTime": last["startTime"],
        }
    assert "lastEvaluatedKey" not in pages[-1]
    order = [(-datetime.fromisoformat(row["startTime"]).timestamp(), row["txId"]) for row in rows]
    assert order == sorted(order)


async def test_a_short_list_is_one_page_without_a_key(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    emulator.state.page_size = 1000
    rows, pages = await walk_station(http, station.station_id, emulator.token_a)
    assert len(pages) == 1 and "lastEvaluatedKey" not in pages[0]
    assert len(rows) == pages[0]["summary"]["count"]


async def test_an_exactly_full_last_page_ends_the_walk(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    count = len(emulator.state.network.station_transactions(emulator.tenant_a, station.station_id))
    emulator.state.page_size = count
    _, pages = await walk_station(raw, station.station_id, emulator.token_a)
    assert len(pages) == 1 and len(pages[0]["transactions"]) == count
    assert "lastEvaluatedKey" not in pages[0]


async def test_the_summary_totals_the_whole_window_on_every_page(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 10
    station = busy_station(emulator, emulator.tenant_a)
    rows, pages = await walk_station(raw, station.station_id, emulator.token_a)
    summaries = [page["summary"] for page in pages]
    assert all(summary == summaries[0] for summary in summaries)
    summary = summaries[0]
    assert summary["count"] == len(rows)
    assert summary["chargedEnergyKwh"] == pytest.approx(sum(r["chargedEnergyKwh"] for r in rows))
    assert summary["chargingTimeMs"] == sum(r["chargingDurationMs"] for r in rows)
    assert summary["occupiedTimeMs"] == sum(r["sessionDurationMs"] for r in rows)
    assert 0 < summary["chargingTimeMs"] <= summary["occupiedTimeMs"]


async def test_a_station_without_transactions_answers_an_empty_page(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    response = await http.get(
        LIST.format(station.station_id),
        params={"startDate": "2030-01-01"},
        headers=bearer(emulator.token_a),
    )
    assert response.json() == {
        "transactions": [],
        "summary": {"chargedEnergyKwh": 0.0, "chargingTimeMs": 0, "count": 0, "occupiedTimeMs": 0},
    }


@pytest.mark.parametrize(
    "key",
    [
        "not json",
        "[1, 2]",
        '"a string"',
        "null",
        '{"txId": "x", "stationId": "y"}',
        '{"txId": "x", "stationId": "y", "startTime": "z", "extra": 1}',
        '{"txId": 1, "stationId": "y", "startTime": "z"}',
    ],
)
async def test_a_malformed_start_key_answers_400(
    http: httpx.AsyncClient, emulator: RunningEmulator, key: str
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    response = await http.get(
        LIST.format(station.station_id),
        params={"exclusiveStartKey": key},
        headers=bearer(emulator.token_a),
    )
    assert response.status_code == 400
    assert "exclusiveStartKey" in response.json()["message"]


async def test_a_foreign_or_forged_start_key_answers_400(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    tenant = emulator.tenant_a
    station = busy_station(emulator, tenant)
    other = next(
        s
        for s in network.visible_stations(tenant)
        if s.station_id != station.station_id and network.station_transactions(tenant, s.station_id)
    )
    own = network.station_transactions(tenant, station.station_id)[3]
    theirs = network.station_transactions(tenant, other.station_id)[0]

    def key(tx: Transaction, **changes: str) -> str:
        fields = {
            "txId": tx.tx_id,
            "stationId": tx.station_id,
            "startTime": format_instant(tx.start),
        }
        return json.dumps({**fields, **changes})

    bad = [
        key(theirs),  # another station's key
        key(theirs, stationId=station.station_id),  # another station's row
        key(own, txId="00000000-0000-4000-8000-000000000000"),  # no such transaction
        key(own, startTime=format_instant(own.start + timedelta(seconds=1))),  # wrong sort key
        key(own, startTime="yesterday"),
    ]
    for text in bad:
        response = await http.get(
            LIST.format(station.station_id),
            params={"exclusiveStartKey": text},
            headers=bearer(emulator.token_a),
        )
        assert response.status_code == 400, text
    good = await http.get(
        LIST.format(station.station_id),
        params={"exclusiveStartKey": key(own)},
        headers=bearer(emulator.token_a),
    )
    expected = network.station_transactions(tenant, station.station_id)[4:9]
    assert [row["txId"] for row in good.json()["transactions"]] == ids(expected)


# --- windows and other parameters ----------------------------------------------------------


async def test_start_is_inclusive_and_end_exclusive_on_start_time(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 50
    network = emulator.state.network
    tenant = emulator.tenant_a
    station = busy_station(emulator, tenant)
    every = network.station_transactions(tenant, station.station_id)
    low, high = every[-5], every[4]  # newest first: `low` started earlier
    window = {"startDate": format_instant(low.start), "endDate": format_instant(high.start)}
    rows, _ = await walk_station(raw, station.station_id, emulator.token_a, window)
    got = [row["txId"] for row in rows]
    assert low.tx_id in got and high.tx_id not in got
    assert got == ids([tx for tx in every if low.start <= tx.start < high.start])


async def test_dates_and_date_times_both_select_by_start_time(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 50
    network = emulator.state.network
    tenant = emulator.tenant_a
    station = busy_station(emulator, tenant)
    start = datetime.fromisoformat("2025-05-25T00:00:00+00:00")
    end = datetime.fromisoformat("2025-05-29T12:00:00+00:00")
    expected = network.station_transactions(tenant, station.station_id, start, end)
    assert expected
    for params in (
        {"startDate": "2025-05-25", "endDate": "2025-05-29T12:00:00.000Z"},
        {"startDate": "2025-05-25T00:00:00Z", "endDate": "2025-05-29T14:00:00+02:00"},
    ):
        rows, pages = await walk_station(raw, station.station_id, emulator.token_a, params)
        assert [row["txId"] for row in rows] == ids(expected)
        assert pages[0]["summary"]["count"] == len(expected)
        assert all(start <= datetime.fromisoformat(row["startTime"]) < end for row in rows)


@pytest.mark.parametrize(
    "params",
    [
        {"startDate": "yesterday"},
        {"endDate": "2025-13-01"},
        {"endDate": "2025-05-01 10:00"},
        {"startDate": ""},
        {"pageSize": "10"},
        {"paginationToken": "abc"},
    ],
)
async def test_bad_parameters_answer_400(
    http: httpx.AsyncClient, emulator: RunningEmulator, params: dict[str, str]
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    response = await http.get(
        LIST.format(station.station_id), params=params, headers=bearer(emulator.token_a)
    )
    assert response.status_code == 400


async def test_get_one_ignores_query_parameters(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    tx = emulator.state.network.visible_transactions(emulator.tenant_a)[0]
    response = await http.get(
        f"/transactions/{tx.tx_id}", params={"expand": "all"}, headers=bearer(emulator.token_a)
    )
    assert response.status_code == 200 and response.json()["transaction"]["txId"] == tx.tx_id


# --- consistency ---------------------------------------------------------------------------


async def test_rows_are_the_network_views_transactions(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    """Per station, the same sessions (ids, EVSEs, statuses, times, verdicts) as the
    Locations API's network transactions view of their location."""
    emulator.state.page_size = 200
    network = emulator.state.network
    tenant = emulator.tenant_a
    window = {"startDate": "2025-05-20"}
    location = next(
        loc for loc in network.visible_locations(tenant) if len(network.stations_at(loc.uid)) > 1
    )
    fields = ("txId", "evseId", "locationUid", "status", "startTime", "endTime", "powerKw")
    network_rows, _ = await walk(
        raw,
        "/locations/networkTransactions",
        emulator.token_a,
        {**window, "locationUids": location.uid},
    )
    station_rows = []
    for station in network.stations_at(location.uid):
        rows, _ = await walk_station(raw, station.station_id, emulator.token_a, window)
        station_rows.extend(rows)
    assert network_rows and len(station_rows) == len(network_rows)

    def view(row: dict[str, Any]) -> tuple[Any, ...]:
        return (*(row.get(f) for f in fields), row.get("technicalFailClassification"))

    assert sorted(map(view, station_rows)) == sorted(map(view, network_rows))


# --- tenancy -------------------------------------------------------------------------------


async def test_an_invisible_station_answers_like_an_unknown_one(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    hidden = only_visible_to(emulator, emulator.tenant_b, hidden_from=emulator.tenant_a)
    unknown = await http.get(LIST.format("NO-SUCH-STATION"), headers=bearer(emulator.token_a))
    invisible = await http.get(LIST.format(hidden.station_id), headers=bearer(emulator.token_a))
    assert unknown.status_code == invisible.status_code == 404
    assert invisible.json() == {"message": f"Charging station '{hidden.station_id}' not found"}
    # The check comes before the key's: a key cannot probe an invisible station either.
    probe = await http.get(
        LIST.format(hidden.station_id),
        params={"exclusiveStartKey": "garbage"},
        headers=bearer(emulator.token_a),
    )
    assert probe.status_code == 404
    owner = await http.get(LIST.format(hidden.station_id), headers=bearer(emulator.token_b))
    assert owner.status_code == 200 and owner.json()["transactions"]


async def test_b_cannot_read_a_only_transactions(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    station = only_visible_to(emulator, emulator.tenant_a, hidden_from=emulator.tenant_b)
    tx = network.station_transactions(emulator.tenant_a, station.station_id)[0]
    assert network.visible_transaction(emulator.tenant_b, tx.tx_id) is None
    as_b = await http.get(f"/transactions/{tx.tx_id}", headers=bearer(emulator.token_b))
    unknown = await http.get("/transactions/no-such-tx", headers=bearer(emulator.token_b))
    assert as_b.status_code == unknown.status_code == 404
    as_b_list = await http.get(LIST.format(station.station_id), headers=bearer(emulator.token_b))
    assert as_b_list.status_code == 404
    as_a = await http.get(f"/transactions/{tx.tx_id}", headers=bearer(emulator.token_a))
    assert as_a.status_code == 200 and as_a.json()["transaction"]["stationId"] == station.station_id


async def test_shared_sites_are_read_by_every_tenant_they_list(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    a, b = emulator.tenant_a, emulator.tenant_b
    shared = next(
        s
        for s in network.visible_stations(a)
        if network.visible_station(b, s.station_id)
        and network.station_transactions(a, s.station_id)
    )
    answers = [
        (await http.get(LIST.format(shared.station_id), headers=bearer(token))).json()
        for token in (emulator.token_a, emulator.token_b)
    ]
    assert answers[0] == answers[1]


# --- auth, counters and faults --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token-we-minted"}, {"Authorization": "Basic x"}]
)
async def test_bad_credentials_answer_401(
    http: httpx.AsyncClient, emulator: RunningEmulator, headers: dict[str, str]
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    tx = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)[0]
    for path in (LIST.format(station.station_id), f"/transactions/{tx.tx_id}"):
        response = await http.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert emulator.state.counters == {"getTransactions": 1, "getTransaction": 1}


async def test_requests_are_counted_and_logged_under_their_operation_ids(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    headers = bearer(emulator.token_a)
    await http.get(
        LIST.format(station.station_id), params={"startDate": "2025-05-30"}, headers=headers
    )
    await http.get("/transactions/no-such-tx", headers=headers)
    assert emulator.state.counters == {"getTransactions": 1, "getTransaction": 1}
    assert emulator.state.requests == [
        ("getTransactions", "GET", f"{LIST.format(station.station_id)}?startDate=2025-05-30"),
        ("getTransaction", "GET", "/transactions/no-such-tx"),
    ]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_injected_statuses_answer_per_contract(
    http: httpx.AsyncClient, emulator: RunningEmulator, status: int
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    tx = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)[0]
    headers = bearer(emulator.token_a)
    paths = {
        "getTransactions": LIST.format(station.station_id),
        "getTransaction": f"/transactions/{tx.tx_id}",
    }
    for operation_id, path in paths.items():
        emulator.state.inject(operation_id, Fault(status=status, retry_after=2))
        faulted = await http.get(path, headers=headers)
        assert faulted.status_code == status and faulted.headers["Retry-After"] == "2"
        assert (await http.get(path, headers=headers)).status_code == 200
    assert emulator.state.counters == {"getTransactions": 2, "getTransaction": 2}


async def test_malformed_and_dropped_answers(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    tx = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)[0]
    headers = bearer(emulator.token_a)
    emulator.state.inject("getTransactions", Fault(kind="malformed"))
    emulator.state.inject("getTransaction", Fault(kind="drop"))
    malformed = await raw.get(LIST.format(station.station_id), headers=headers)
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.content)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await raw.get(f"/transactions/{tx.tx_id}", headers=headers)
    assert (await raw.get(f"/transactions/{tx.tx_id}", headers=headers)).status_code == 200


async def test_a_delay_fault_trips_a_client_timeout(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    emulator.state.inject("getTransactions", Fault(kind="delay", delay_ms=250))
    with pytest.raises(httpx.ReadTimeout):
        await raw.get(
            LIST.format(station.station_id), headers=bearer(emulator.token_a), timeout=0.05
        )
    assert emulator.state.counters["getTransactions"] == 1


async def test_latency_delays_both_operations(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    station = busy_station(emulator, emulator.tenant_a)
    tx = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)[0]
    emulator.state.latency_ms = 120
    for path in (LIST.format(station.station_id), f"/transactions/{tx.tx_id}"):
        started = time.monotonic()
        response = await http.get(path, headers=bearer(emulator.token_a))
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.12
