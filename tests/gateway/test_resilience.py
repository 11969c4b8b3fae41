"""Failures stay where they happen: outages are errors, not missing rows; nothing repeats."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator


async def test_a_stations_api_outage_is_an_error_not_a_missing_station(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    station = emulator.state.network.visible_stations(emulator.tenant_a)[0]
    emulator.state.inject("listStations", Fault(kind="status", status=503), times=None)
    body = await gateway.query(
        "query($id: ID!) { station(id: $id) { stationId } }",
        {"id": station.station_id},
        token=emulator.token_a,
    )
    assert body["data"] == {"station": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_a_failed_batch_is_not_asked_again_in_the_same_request(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    emulator.state.reset()
    emulator.state.inject("getNetworkStatus", Fault(kind="status", status=503), times=None)
    body = await gateway.query(
        """query($id: ID!) { location(id: $id) {
             stations { stationId }
             evses { evseId }
        } }""",
        {"id": location.uid},
        token=emulator.token_a,
    )
    assert body["data"]["location"] == {"stations": None, "evses": None}
    # One failed batch, retried by the client's policy, then shared by both fields.
    attempts = gateway.settings.upstream_retry_attempts
    assert emulator.state.counters["getNetworkStatus"] == attempts


async def test_one_failing_root_field_leaves_the_others(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getCurrentlyUsedPower", Fault(kind="status", status=500), times=None)
    body = await gateway.query(
        "{ networkPower { totalPowerKw } networkSummary { stationCount currentPowerKw }"
        " locations(first: 2) { nodes { id } } }",
        token=emulator.token_a,
    )
    data = body["data"]
    assert data["networkPower"] is None
    assert data["networkSummary"]["stationCount"] > 0
    assert data["networkSummary"]["currentPowerKw"] is None
    assert len(data["locations"]["nodes"]) == 2
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_UNAVAILABLE"}


async def test_a_failing_second_mutation_keeps_the_first_ones_id(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    body = await gateway.query(
        """mutation {
             made: createLocation(input: {name: "Kept"}) { id }
             broken: updateLocation(id: "no-such-location", input: {name: "x"}) { id }
        }""",
        token=emulator.token_a,
    )
    made = body["data"]["made"]
    assert made is not None and emulator.state.network.location(made["id"]) is not None
    assert body["data"]["broken"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_out_of_range_instant_is_bad_user_input(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    body = await gateway.query(
        '{ transactions(filter: {startedBefore: "9999-12-31T23:59:59-05:00"}) { nodes { txId } } }',
        token=emulator.token_a,
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "startedBefore"}


async def test_a_stations_api_outage_is_one_error_for_every_current_transaction(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    location = next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if sum(
            1
            for s in network.stations_at(loc.uid)
            for e in network.evses_of(s.station_id)
            if e.tx_id is not None
        )
        >= 2
    )
    emulator.state.inject("listStations", Fault(kind="status", status=503), times=None)
    body = await gateway.query(
        "query($id: ID!) { location(id: $id) { stations { stationId"
        " evses { evseId txId currentTransaction { txId status } } } } }",
        {"id": location.uid},
        token=emulator.token_a,
    )
    evses = [e for s in body["data"]["location"]["stations"] for e in s["evses"]]
    running = [e for e in evses if e["txId"] is not None]
    assert len(running) >= 2 and all(e["currentTransaction"] is None for e in running)
    # One failed call, one error: it names every field it nulled.
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["affectedCount"] == len(running)
    assert len(error["extensions"]["affectedPaths"]) == len(running) - 1


async def test_a_new_session_between_pages_is_neither_repeated_nor_skipped(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    query = """query($after: String) { transactions(first: 3, after: $after) {
                 nodes { txId } pageInfo { endCursor } } }"""
    first = await gateway.query(query, token=emulator.token_a)
    shown = [n["txId"] for n in first["data"]["transactions"]["nodes"]]
    newest = network.transactions[0]
    arrived = replace(newest, tx_id="tx-arrived-later", start=newest.start + timedelta(minutes=1))
    network.transactions = (arrived, *network.transactions)
    cursor = first["data"]["transactions"]["pageInfo"]["endCursor"]
    second = await gateway.query(query, {"after": cursor}, token=emulator.token_a)
    following = [n["txId"] for n in second["data"]["transactions"]["nodes"]]
    expected = [tx.tx_id for tx in network.visible_transactions(emulator.tenant_a)]
    assert expected[0] == "tx-arrived-later"
    assert following == expected[4:7]
    assert not set(shown) & set(following)


@pytest.mark.parametrize("first", [5, 50])
async def test_a_filter_matching_nothing_reads_a_bounded_number_of_pages(
    gateway: Gateway, emulator: RunningEmulator, first: int
) -> None:
    from gateway.loaders.limits import MAX_FILTERED_PAGES, Limits

    emulator.state.reset()
    body = await gateway.query(
        'query($first: Int!) { hardwareErrors(first: $first, filter: {severities: ["nope"]})'
        " { nodes { stationId } pageInfo { hasNextPage endCursor } } }",
        {"first": first},
        token=emulator.token_a,
    )
    page = body["data"]["hardwareErrors"]
    assert page["nodes"] == []
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["endCursor"]
    # Twice the pages `first` unfiltered rows would fill, at least 2, at most the cap.
    budget = Limits(page_size=gateway.settings.upstream_page_size).filtered_pages(first)
    assert budget == (2 if first == 5 else MAX_FILTERED_PAGES)
    assert emulator.state.counters["getNetworkHardwareErrors"] == budget
