"""`UpstreamClient`'s Transactions API calls over real loopback HTTP against the emulator:
the station list walked through `lastEvaluatedKey`/`exclusiveStartKey`, get-one by txId,
not-found and tenancy. Expected rows come from the emulator's own data."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.emulator import Fault
from gateway.emulator.records import Station, Transaction
from gateway.errors import NotFound, UpstreamRejected
from gateway.upstream import Page, UpstreamClient, walk
from gateway.upstream.models import TransactionRecord
from tests.client.conftest import FAST, RealClientFactory
from tests.support import RunningEmulator


@pytest.fixture
async def live(
    emulator: RunningEmulator, real_client: RealClientFactory
) -> AsyncIterator[UpstreamClient]:
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=8) as http:
        yield UpstreamClient(http, emulator.url, policy=FAST)


def station_with(emulator: RunningEmulator, tenant_id: str, at_least: int) -> Station:
    network = emulator.state.network
    return next(
        station
        for station in network.visible_stations(tenant_id)
        if len(network.station_transactions(tenant_id, station.station_id)) >= at_least
    )


def a_only_station(emulator: RunningEmulator) -> Station:
    network = emulator.state.network
    seen_by_b = {loc.uid for loc in network.visible_locations(emulator.tenant_b)}
    return next(
        station
        for station in network.visible_stations(emulator.tenant_a)
        if station.location_uid not in seen_by_b
        and network.station_transactions(emulator.tenant_a, station.station_id)
    )


async def every_row(
    live: UpstreamClient,
    station_id: str,
    token: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[TransactionRecord]:
    async def fetch(page_token: str | None) -> Page[TransactionRecord]:
        return await live.station_transactions_page(
            station_id, token=token, start=start, end=end, page_token=page_token
        )

    return [row async for row in walk(fetch)]


def assert_same(row: TransactionRecord, tx: Transaction) -> None:
    assert row.tx_id == tx.tx_id
    assert row.station_id == tx.station_id
    assert row.evse_id == tx.evse_id
    assert row.location_uid == tx.location_uid
    assert row.status == tx.status
    assert row.technical_fail_classification == tx.classification
    assert row.start_time == tx.start
    assert row.end_time == tx.end
    assert row.update_time == tx.update_time
    assert row.charged_energy_kwh == tx.energy_kwh
    assert (row.soc, row.soc_start) == (tx.soc, tx.soc_start)
    assert row.power_limitation == tx.power_limitation


async def test_a_walk_to_the_end_returns_exactly_the_stations_rows(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 6
    station = station_with(emulator, emulator.tenant_a, at_least=20)
    expected = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)
    rows = await every_row(live, station.station_id, emulator.token_a)
    assert [row.tx_id for row in rows] == [tx.tx_id for tx in expected]
    for row, tx in zip(rows, expected, strict=True):
        assert_same(row, tx)
    pages = math.ceil(len(expected) / 6)
    assert emulator.state.counters["getTransactions"] == pages > 2
    # Each follow-up call carried the previous page's last row as its exclusiveStartKey.
    keys = [
        parse_qs(urlsplit(path).query).get("exclusiveStartKey")
        for _, _, path in emulator.state.requests
    ]
    assert keys[0] is None
    sent = [json.loads(key[0]) for key in keys[1:] if key]
    assert [key["txId"] for key in sent] == [tx.tx_id for tx in expected[5:-1:6]]
    assert all(key["stationId"] == station.station_id for key in sent)


async def test_a_window_walk_returns_the_windows_rows(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 4
    station = station_with(emulator, emulator.tenant_a, at_least=20)
    start = datetime.fromisoformat("2025-05-20T00:00:00+00:00")
    end = datetime.fromisoformat("2025-05-28T06:30:00+00:00")
    expected = emulator.state.network.station_transactions(
        emulator.tenant_a, station.station_id, start, end
    )
    assert expected
    rows = await every_row(live, station.station_id, emulator.token_a, start, end)
    assert [row.tx_id for row in rows] == [tx.tx_id for tx in expected]
    assert all(row.start_time is not None and start <= row.start_time < end for row in rows)


async def test_one_page_carries_the_next_token_until_the_last(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 5
    station = station_with(emulator, emulator.tenant_a, at_least=6)
    first = await live.station_transactions_page(station.station_id, token=emulator.token_a)
    assert len(first.rows) == 5 and first.next_token is not None
    assert json.loads(first.next_token)["txId"] == first.rows[-1].tx_id
    emulator.state.page_size = 10_000
    rest = await live.station_transactions_page(
        station.station_id, token=emulator.token_a, page_token=first.next_token
    )
    assert rest.is_last
    assert rest.rows[0].tx_id not in {row.tx_id for row in first.rows}


async def test_get_transaction_returns_the_record_with_its_station(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    ended = next(tx for tx in network.visible_transactions(emulator.tenant_a) if tx.end)
    running = next(tx for tx in network.visible_transactions(emulator.tenant_a) if not tx.end)
    for tx in (ended, running):
        row = await live.get_transaction(tx.tx_id, token=emulator.token_a)
        assert_same(row, tx)
        evse = next(e for e in network.evses_of(tx.station_id) if e.evse_id == tx.evse_id)
        assert (row.evse_name, row.evse_type) == (evse.name, evse.type)
    assert emulator.state.counters["getTransaction"] == 2


async def test_unknown_ids_are_not_found(live: UpstreamClient, emulator: RunningEmulator) -> None:
    with pytest.raises(NotFound) as caught:
        await live.get_transaction("no-such-tx", token=emulator.token_a)
    assert caught.value.operation == "getTransaction"
    with pytest.raises(NotFound):
        await live.station_transactions_page("NO-SUCH-STATION", token=emulator.token_a)
    # A 404 is an answer, not a fault: neither call was retried.
    assert emulator.state.counters == {"getTransaction": 1, "getTransactions": 1}


async def test_a_tenant_cannot_read_anothers_transactions(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    station = a_only_station(emulator)
    tx = emulator.state.network.station_transactions(emulator.tenant_a, station.station_id)[0]
    with pytest.raises(NotFound):
        await live.get_transaction(tx.tx_id, token=emulator.token_b)
    with pytest.raises(NotFound):
        await live.station_transactions_page(station.station_id, token=emulator.token_b)
    mine = await live.get_transaction(tx.tx_id, token=emulator.token_a)
    assert mine.station_id == station.station_id


async def test_a_forged_page_token_is_rejected(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    station = station_with(emulator, emulator.tenant_a, at_least=1)
    forged = json.dumps({"txId": "x", "stationId": station.station_id, "startTime": "y"})
    with pytest.raises(UpstreamRejected):
        await live.station_transactions_page(
            station.station_id, token=emulator.token_a, page_token=forged
        )


async def test_a_transient_fault_is_retried(
    live: UpstreamClient, emulator: RunningEmulator
) -> None:
    tx = emulator.state.network.visible_transactions(emulator.tenant_a)[0]
    emulator.state.inject("getTransaction", Fault(status=503))
    row = await live.get_transaction(tx.tx_id, token=emulator.token_a)
    assert row.tx_id == tx.tx_id
    assert emulator.state.counters["getTransaction"] == 2
