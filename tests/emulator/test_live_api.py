"""The live clock over HTTP: `POST /_emulator/clock/advance` moves the world on, uncounted,
and every view the API serves tells what happened. The `http` client checks each answer
against the contracts, so evolved rows are conformance-tested too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.emulator import EmulatorConfig, EmulatorState, StepSummary
from gateway.emulator.catalog import SESSION_ALERTS
from gateway.emulator.records import Transaction
from gateway.emulator.wire import format_instant
from tests.emulator.helpers import get, walk
from tests.support import FIXED_NOW, RunningEmulator, SharedServer, bearer, mounted_emulator

ADVANCE = "/_emulator/clock/advance"


def charging_start(state: EmulatorState, limit: int = 400) -> Transaction:
    """Step until a session starts charging and is still running; return it."""
    for _ in range(limit):
        summary = state.advance()
        for tx_id in summary.started:
            tx = state.network.transaction(tx_id)
            if tx is not None and tx.status == "Charging" and tx.end is None:
                return tx
    raise AssertionError("no session started charging")


def current(state: EmulatorState, tx_id: str) -> Transaction:
    tx = state.network.transaction(tx_id)
    assert tx is not None
    return tx


def owner_token(state: EmulatorState, location_uid: str) -> str:
    """The access token of the CPO that runs the location."""
    location = state.network.location(location_uid)
    assert location is not None
    return state.access_tokens[location.tenancy.cpo]


def until(
    state: EmulatorState, found: Callable[[StepSummary], bool], limit: int = 400
) -> StepSummary:
    for _ in range(limit):
        summary = state.advance()
        if found(summary):
            return summary
    raise AssertionError(f"nothing of the kind within {limit} steps")


def evse_row(status_rows: list[dict[str, Any]], station_id: str, evse_id: str) -> dict[str, Any]:
    return next(
        evse
        for location in status_rows
        for station in location["stations"]
        if station["stationId"] == station_id
        for evse in station["evses"]
        if evse["evseId"] == evse_id
    )


# --- the endpoint --------------------------------------------------------------------------


async def test_advancing_moves_the_clock_and_is_not_an_api_call(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    assert (await http.get("/_emulator/clock")).json() == {
        "step": 0,
        "now": format_instant(FIXED_NOW),
        "stepSeconds": 30.0,
        "tickSeconds": 0.0,
    }
    response = await http.post(ADVANCE, json={"steps": 40})
    assert response.status_code == 200
    body = response.json()
    assert body["step"] == 40 == emulator.state.step
    assert body["now"] == format_instant(emulator.state.now) == "2025-06-02T12:20:00.000Z"
    assert body["sessionsStarted"] > 0 and body["sessionsEnded"] > 0
    assert body["errorsRaised"] == body["faults"] and body["errorsCleared"] == body["recoveries"]
    assert (await http.post(ADVANCE)).json()["step"] == 41  # no body: one step
    assert sum(emulator.state.counters.values()) == 0 and emulator.state.requests == []


@pytest.mark.parametrize(
    "body", [{"steps": 0}, {"steps": -2}, {"steps": "3"}, {"steps": None}, {"steps": True}, [3]]
)
async def test_a_bad_step_count_is_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator, body: object
) -> None:
    response = await http.post(ADVANCE, json=body)
    assert response.status_code == 400
    assert "message" in response.json()
    assert emulator.state.step == 0


async def test_one_call_takes_a_bounded_number_of_steps(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    refused = await http.post(ADVANCE, json={"steps": 1001})
    assert refused.status_code == 400 and "from 1 to 1000" in refused.json()["message"]
    assert emulator.state.step == 0


async def test_reset_data_turns_the_clock_back(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    token = emulator.token_a
    before = (await get(http, "/locations/networkTransactions", token)).json()["transactions"]
    await http.post(ADVANCE, json={"steps": 20})
    moved = (await get(http, "/locations/networkTransactions", token)).json()["transactions"]
    assert moved != before
    await http.post("/_emulator/reset-data")
    assert (await http.get("/_emulator/clock")).json()["step"] == 0
    again = (await get(http, "/locations/networkTransactions", token)).json()["transactions"]
    assert again == before


# --- every view tells what happened ---------------------------------------------------------


async def test_a_live_session_is_served_everywhere_while_it_runs_and_once_it_ended(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    tx = charging_start(state)
    token = owner_token(state, tx.location_uid)
    state.page_size = 1000

    newest = (await get(http, "/locations/networkTransactions", token)).json()["transactions"]
    row = next(r for r in newest if r["txId"] == tx.tx_id)
    assert newest.index(row) < 10  # among the newest
    assert row["status"] == "Charging" and "endTime" not in row
    assert row["startTime"] == format_instant(tx.start)
    one = (await get(http, f"/transactions/{tx.tx_id}", token)).json()["transaction"]
    assert (one["status"], one["powerKw"]) == ("Charging", tx.power_kw)
    listed = (await get(http, f"/chargingStations/{tx.station_id}/transactions", token)).json()
    assert listed["transactions"][0]["txId"] == tx.tx_id
    stations = (await get(http, "/stations", token, {"stationIds": tx.station_id})).json()
    [connector] = [
        c for c in stations["stations"][0]["connectors"] if c["connectorId"] == tx.evse_id
    ]
    assert connector["latestTransaction"]["txId"] == tx.tx_id
    assert connector["status"] == "Charging"
    status, _ = await walk(http, "/locations/networkStatus", token)
    evse = evse_row(status, tx.station_id, tx.evse_id)
    assert (evse["status"], evse["txId"], evse["txStatus"]) == ("Charging", tx.tx_id, "Charging")

    until(state, lambda _: current(state, tx.tx_id).end is not None)
    ended = (await get(http, f"/transactions/{tx.tx_id}", token)).json()["transaction"]
    assert ended["status"] in ("Ended", "Alarm") and "endTime" in ended
    assert "technicalFailClassification" in ended
    assert ("socEnd" in ended) == (tx.soc is not None)
    assert ended["sessionDurationMs"] > 0 and ended["chargedEnergyKwh"] > 0
    status, _ = await walk(http, "/locations/networkStatus", token)
    assert evse_row(status, tx.station_id, tx.evse_id).get("txId") != tx.tx_id
    network_row = next(
        r
        for r in (await get(http, "/locations/networkTransactions", token)).json()["transactions"]
        if r["txId"] == tx.tx_id
    )
    assert network_row["endTime"] == ended["endTime"]


async def test_a_failed_live_session_is_filed_as_a_problematic_one(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state

    def alerted(summary: StepSummary) -> list[Transaction]:
        ended = [current(state, tx_id) for tx_id in summary.ended]
        return [tx for tx in ended if tx.classification in SESSION_ALERTS]

    [failed, *_] = alerted(until(state, lambda s: bool(alerted(s))))
    assert failed.end is not None
    state.page_size = 1000
    token = owner_token(state, failed.location_uid)
    window = {"startDate": format_instant(failed.start)}
    body = (await get(http, "/locations/problematicSessions", token, window)).json()
    [row] = [r for r in body["sessions"] if r["transaction"]["txId"] == failed.tx_id]
    assert (row["status"], row["endTime"]) == (failed.status, format_instant(failed.end))
    assert row["alert"] == SESSION_ALERTS[failed.classification or ""]
    assert row["locationUid"] == failed.location_uid


async def test_power_and_session_counts_follow_the_running_sessions(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 1000
    token = emulator.token_a
    before = (await get(http, "/locations/currentlyUsedPower", token)).json()["locations"]
    await http.post(ADVANCE, json={"steps": 30})
    power = (await get(http, "/locations/currentlyUsedPower", token)).json()["locations"]
    assert power != before
    status, _ = await walk(http, "/locations/networkStatus", token)
    stations = (await get(http, "/stations", token)).json()["stations"]
    output = {s["stationId"]: s["currentPowerKw"] for s in stations}
    for row, location in zip(power, status, strict=True):
        assert row["locationUid"] == location["id"]
        evses = [e for s in location["stations"] for e in s["evses"]]
        assert row["sessionCount"] == sum("txId" in e for e in evses)
        station_power = sum(output[s["stationId"]] for s in location["stations"])
        assert row["currentPowerKw"] == pytest.approx(station_power, abs=0.05 * len(evses))


async def test_a_live_fault_is_a_new_hardware_error_until_the_evse_recovers(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    faulted = until(state, lambda s: bool(s.faulted))
    (station_id, evse_id), alert_id = faulted.faulted[0], faulted.errors_raised[0]
    station = state.network.station(station_id)
    assert station is not None
    token = state.access_tokens[station.tenancy.cpo]
    errors = (await get(http, "/locations/networkHardwareErrors", token)).json()["errors"]
    assert errors[0]["alert"]["id"] == alert_id and errors[0]["stationId"] == station_id
    assert "endTime" not in errors[0]["alert"]
    status, _ = await walk(http, "/locations/networkStatus", token)
    assert evse_row(status, station_id, evse_id)["status"] == "Faulted"

    until(state, lambda s: alert_id in s.errors_cleared)
    errors, _ = await walk(http, "/locations/networkHardwareErrors", token)
    [cleared] = [e for e in errors if e["alert"]["id"] == alert_id]
    assert cleared["alert"]["endTime"] > cleared["alert"]["timestamp"]


async def test_a_running_sessions_duration_follows_the_clock(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    for _ in range(20):  # a session that is still running one step after it started
        tx = charging_start(state)
        token = owner_token(state, tx.location_uid)
        first = (await get(http, f"/transactions/{tx.tx_id}", token)).json()["transaction"]
        state.advance()
        if current(state, tx.tx_id).end is None:
            break
    else:
        raise AssertionError("every session ended within a step")
    later = (await get(http, f"/transactions/{tx.tx_id}", token)).json()["transaction"]
    assert later["sessionDurationMs"] == first["sessionDurationMs"] + 30_000
    assert later["chargedEnergyKwh"] > first["chargedEnergyKwh"]
    assert later["updateTime"] == format_instant(state.now)


# --- tenancy and paging --------------------------------------------------------------------


async def test_new_rows_follow_the_tenancy_of_their_location(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    http = raw  # whole-network walks: test_conformance checks these views page by page
    state = emulator.state
    summary = state.advance(60)
    state.page_size = 100_000
    network = state.network
    for tenant in (emulator.tenant_a, emulator.tenant_b, emulator.tenant_c):
        token = state.access_tokens[tenant]
        seen = {loc.uid for loc in network.visible_locations(tenant)}
        rows, _ = await walk(http, "/locations/networkTransactions", token)
        assert {r["locationUid"] for r in rows} <= seen
        assert [r["txId"] for r in rows] == [
            tx.tx_id for tx in network.visible_transactions(tenant)
        ]
        errors, _ = await walk(http, "/locations/networkHardwareErrors", token)
        assert [e["alert"]["id"] for e in errors] == [
            e.alert_id for e in network.visible_hardware_errors(tenant)
        ]
    # A session at a site C may not read answers C as if it did not exist.
    hidden = next(
        tx
        for tx_id in summary.started
        if (tx := network.transaction(tx_id)) is not None
        and network.visible_location(emulator.tenant_c, tx.location_uid) is None
    )
    assert (await get(http, f"/transactions/{hidden.tx_id}", emulator.token_c)).status_code == 404
    owner = owner_token(state, hidden.location_uid)
    assert (await get(http, f"/transactions/{hidden.tx_id}", owner)).status_code == 200


async def test_a_walk_across_steps_neither_repeats_nor_skips_a_row(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    token, path = emulator.token_a, "/locations/networkTransactions"
    first = (await get(http, path, token)).json()
    shown = [r["txId"] for r in first["transactions"]]
    await http.post(ADVANCE, json={"steps": 10})
    params = {"paginationToken": first["paginationToken"]}
    following = [r["txId"] for r in (await get(http, path, token, params)).json()["transactions"]]
    now = [tx.tx_id for tx in emulator.state.network.visible_transactions(emulator.tenant_a)]
    assert now.index(shown[0]) > 0  # newer sessions arrived on top meanwhile
    after = now.index(shown[-1]) + 1
    assert following == now[after : after + len(following)]
    assert not set(shown) & set(following)


# --- determinism ---------------------------------------------------------------------------


async def answers(running: RunningEmulator) -> dict[str, Any]:
    """Every view, as each tenant sees it, in one page each (no signed page tokens)."""
    found: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=running.url) as client:
        for tenant in (running.tenant_a, running.tenant_b, running.tenant_c):
            token = running.state.access_tokens[tenant]
            for path in (
                "/locations/networkStatus",
                "/locations/currentlyUsedPower",
                "/locations/networkHardwareErrors",
                "/locations/problematicSessions",
                "/locations/networkTransactions",
                "/stations",
            ):
                found[tenant + path] = (await client.get(path, headers=bearer(token))).json()
            for station in running.state.network.visible_stations(tenant)[::7]:
                path = f"/chargingStations/{station.station_id}/transactions"
                found[tenant + path] = (await client.get(path, headers=bearer(token))).json()
            newest = found[tenant + "/locations/networkTransactions"]["transactions"][:5]
            for row in newest:
                path = f"/transactions/{row['txId']}"
                found[tenant + path] = (await client.get(path, headers=bearer(token))).json()
    return found


async def test_two_emulators_with_the_same_seed_and_steps_answer_alike(
    emulator_server: SharedServer,
) -> None:
    config = EmulatorConfig(seed=7, now=FIXED_NOW, admin=True, page_size=100_000)
    results = []
    for calls in ([25], [1] * 25, [24]):
        with mounted_emulator(emulator_server, config) as running:
            async with httpx.AsyncClient(base_url=running.url) as client:
                for steps in calls:
                    response = await client.post(ADVANCE, json={"steps": steps})
                    assert response.status_code == 200
            results.append(await answers(running))
    in_one_call, step_by_step, one_step_less = results
    assert in_one_call == step_by_step
    assert in_one_call != one_step_less
