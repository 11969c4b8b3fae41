"""`UpstreamClient` over real loopback HTTP against the embedded ChargEye emulator.

Expected answers come from the emulator's own data (`state.network`), and the emulator's
per-operation counters prove how many requests actually reached the far side.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from datetime import timedelta
from typing import Any

import pytest

from gateway.emulator import Fault
from gateway.errors import (
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import RetryPolicy, UpstreamClient
from gateway.upstream.models import LocationInput, TechnicalFailClassification
from tests.client.conftest import FAST, RealClientFactory


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: Any) -> Iterator[None]:
    """Counters and faults start empty; knobs and data are put back afterwards."""
    state = emulator.state
    state.reset()
    yield
    state.reset()
    state.reset_data()
    state.page_size = state.config.page_size
    state.latency_ms = state.config.latency_ms


@pytest.fixture
async def live(emulator: Any, real_client: RealClientFactory) -> AsyncIterator[UpstreamClient]:
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=8) as http:
        yield UpstreamClient(http, emulator.url, policy=FAST)


def counter(emulator: Any, operation_id: str) -> int:
    return int(emulator.state.counters[operation_id])


def refresh_token_of(emulator: Any, tenant_id: str) -> str:
    return str(emulator.state.refresh_tokens[tenant_id])


def b_only_location_uids(emulator: Any) -> set[str]:
    network = emulator.state.network
    seen_by_a = {loc.uid for loc in network.visible_locations(emulator.tenant_a)}
    return {
        loc.uid for loc in network.visible_locations(emulator.tenant_b) if loc.uid not in seen_by_a
    }


# --- auth ----------------------------------------------------------------------------------


async def test_refresh_returns_an_access_token_that_works(
    live: UpstreamClient, emulator: Any
) -> None:
    access = await live.refresh_access_token(refresh_token_of(emulator, emulator.tenant_a))
    assert access.token and access.valid_until.tzinfo is not None
    rows = await live.list_locations(token=access.token)
    expected = emulator.state.network.visible_locations(emulator.tenant_a)
    assert [row.id for row in rows] == [loc.uid for loc in expected]
    assert counter(emulator, "refreshAccessToken") == 1


async def test_an_unknown_token_is_unauthenticated(live: UpstreamClient, emulator: Any) -> None:
    with pytest.raises(Unauthenticated):
        await live.list_locations(token="not-a-token-the-emulator-minted")
    assert counter(emulator, "getLocations") == 1  # a 401 is not retried


async def test_an_injected_401_is_unauthenticated(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getNetworkStatus", Fault(kind="status", status=401), times=1)
    with pytest.raises(Unauthenticated):
        await live.network_status_page(token=emulator.token_a)


# --- each operation --------------------------------------------------------------------------


async def test_list_and_get_locations(live: UpstreamClient, emulator: Any) -> None:
    rows = await live.list_locations(token=emulator.token_a)
    expected = emulator.state.network.visible_locations(emulator.tenant_a)
    assert [row.id for row in rows] == [loc.uid for loc in expected]
    assert all(emulator.tenant_a in (row.tenant_ids or ()) for row in rows)

    first = expected[0]
    row = await live.get_location(first.uid, token=emulator.token_a)
    assert (row.id, row.name, row.city) == (first.uid, first.name, first.city)
    assert counter(emulator, "getLocations") == 1 and counter(emulator, "getLocation") == 1


async def test_an_unknown_location_is_not_found(live: UpstreamClient, emulator: Any) -> None:
    with pytest.raises(NotFound) as caught:
        await live.get_location("no-such-location", token=emulator.token_a)
    assert caught.value.key == "no-such-location"
    with pytest.raises(NotFound):
        await live.location_stations("no-such-location", token=emulator.token_a)


async def test_create_then_update_a_location(live: UpstreamClient, emulator: Any) -> None:
    new_id = await live.create_location(
        LocationInput(name="Harbour", city="Turku", postal_code="20100", lat=60.43, lng=22.22),
        token=emulator.token_a,
    )
    created = await live.get_location(new_id, token=emulator.token_a)
    assert (created.name, created.city, created.postal_code) == ("Harbour", "Turku", "20100")
    assert created.tenant_ids == (emulator.tenant_a,)

    await live.update_location(
        new_id, LocationInput(name="Harbour West", postal_code=None), token=emulator.token_a
    )
    updated = await live.get_location(new_id, token=emulator.token_a)
    assert (updated.name, updated.city, updated.postal_code) == ("Harbour West", "Turku", None)
    assert counter(emulator, "postLocation") == 1 and counter(emulator, "patchLocation") == 1


async def test_location_stations_match_the_inventory(live: UpstreamClient, emulator: Any) -> None:
    network = emulator.state.network
    location = network.visible_locations(emulator.tenant_a)[0]
    stations = await live.location_stations(location.uid, token=emulator.token_a)
    assert [s.station_id for s in stations] == [
        s.station_id for s in network.stations_at(location.uid)
    ]
    assert all(s.location_uid == location.uid for s in stations)
    assert all(s.manufacturing_info and s.manufacturing_info.serial_number for s in stations)


async def test_currently_used_power(live: UpstreamClient, emulator: Any) -> None:
    network = emulator.state.network
    expected = {
        row.location_uid: (row.current_power_kw, row.session_count)
        for row in network.currently_used_power(emulator.tenant_a)
    }
    rows = await live.currently_used_power(token=emulator.token_a)
    assert {r.location_uid: (r.current_power_kw, r.session_count) for r in rows} == expected

    some = sorted(expected)[:2]
    filtered = await live.currently_used_power(token=emulator.token_a, location_uids=some)
    assert sorted(r.location_uid for r in filtered) == some


async def test_list_stations_by_location_and_by_ids(live: UpstreamClient, emulator: Any) -> None:
    network = emulator.state.network
    location = network.visible_locations(emulator.tenant_a)[0]
    expected = [s.station_id for s in network.stations_at(location.uid)]
    by_location = await live.list_stations(token=emulator.token_a, location_uid=location.uid)
    assert [s.station_id for s in by_location] == expected
    assert all(s.connectors for s in by_location)

    wanted = expected[:2]
    by_ids = await live.list_stations(token=emulator.token_a, station_ids=wanted)
    assert sorted(s.station_id for s in by_ids) == sorted(wanted)


async def test_network_status_walk_returns_every_location_once(
    live: UpstreamClient, emulator: Any
) -> None:
    emulator.state.page_size = 4
    expected = [loc.uid for loc in emulator.state.network.visible_locations(emulator.tenant_a)]
    rows = [row async for row in live.iter_rows(live.network_status_page, token=emulator.token_a)]
    assert [row.id for row in rows] == expected
    assert counter(emulator, "getNetworkStatus") == math.ceil(len(expected) / 4) > 2
    station_ids = {s.station_id for row in rows for s in row.stations}
    evses = [e for row in rows for s in row.stations for e in s.evses]
    assert station_ids and evses and all(e.station_id in station_ids for e in evses)


async def test_network_transactions_walk_crosses_pages(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.page_size = 7
    network = emulator.state.network
    every = network.visible_transactions(emulator.tenant_a)
    per_location = Counter(tx.location_uid for tx in every)
    quiet = min(per_location, key=lambda uid: per_location[uid])  # the fewest pages to walk
    expected = [tx.tx_id for tx in network.visible_transactions(emulator.tenant_a, [quiet])]
    rows = [
        row
        async for row in live.iter_rows(
            live.network_transactions_page, token=emulator.token_a, location_uids=[quiet]
        )
    ]
    assert [row.tx_id for row in rows] == expected
    assert len(set(expected)) == len(expected) > 7 * 2
    assert all(row.location_uid == quiet for row in rows)
    assert counter(emulator, "getNetworkTransactions") == math.ceil(len(expected) / 7)


async def test_network_transactions_with_window_and_classification(
    live: UpstreamClient, emulator: Any
) -> None:
    emulator.state.page_size = 10
    network = emulator.state.network
    every = network.visible_transactions(emulator.tenant_a)
    end = every[0].start
    start = end - timedelta(days=20)
    uids = sorted({tx.location_uid for tx in every})[:4]
    kinds = [TechnicalFailClassification.LOW_POWER, TechnicalFailClassification.HANDSHAKE_FAIL]
    expected = network.visible_transactions(
        emulator.tenant_a, uids, start, end, [k.value for k in kinds]
    )
    rows = [
        row
        async for row in live.iter_rows(
            live.network_transactions_page,
            token=emulator.token_a,
            location_uids=uids,
            start=start,
            end=end,
            classifications=kinds,
        )
    ]
    assert [row.tx_id for row in rows] == [tx.tx_id for tx in expected]
    assert len(rows) > 10  # more than one page
    assert all(row.technical_fail_classification in kinds for row in rows)
    assert all(row.start_time is not None and start <= row.start_time < end for row in rows)


async def test_problematic_sessions_walk(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.page_size = 250
    expected = emulator.state.network.visible_sessions(emulator.tenant_a)
    rows = [
        row async for row in live.iter_rows(live.problematic_sessions_page, token=emulator.token_a)
    ]
    assert [row.transaction.tx_id if row.transaction else None for row in rows] == [
        s.transaction.tx_id for s in expected
    ]


async def test_hardware_errors_walk(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.page_size = 60
    expected = emulator.state.network.visible_hardware_errors(emulator.tenant_a)
    rows = [row async for row in live.iter_rows(live.hardware_errors_page, token=emulator.token_a)]
    assert [row.alert.id if row.alert else None for row in rows] == [e.alert_id for e in expected]
    assert all(not hasattr(row.error, "internal_notes") for row in rows)


@pytest.mark.parametrize(("take", "calls"), [(1, 1), (5, 1), (6, 2), (10, 2), (11, 3)])
async def test_the_walk_never_reads_ahead(
    live: UpstreamClient, emulator: Any, take: int, calls: int
) -> None:
    emulator.state.page_size = 5
    taken = []
    async with aclosing(
        live.iter_rows(live.network_transactions_page, token=emulator.token_a)
    ) as rows:
        async for row in rows:
            taken.append(row)
            if len(taken) == take:
                break
    assert len(taken) == take
    assert counter(emulator, "getNetworkTransactions") == calls


# --- tenants ---------------------------------------------------------------------------------


async def test_tenant_a_never_sees_tenant_b_rows(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.page_size = 2500  # the whole network in a few pages
    hidden = b_only_location_uids(emulator)
    assert hidden, "the seed should give tenant B sites of its own"
    ids_a = {row.id for row in await live.list_locations(token=emulator.token_a)}
    ids_b = {row.id for row in await live.list_locations(token=emulator.token_b)}
    assert hidden <= ids_b and not hidden & ids_a

    status_a = [
        row async for row in live.iter_rows(live.network_status_page, token=emulator.token_a)
    ]
    assert not {row.id for row in status_a} & hidden
    txs_a = [
        row async for row in live.iter_rows(live.network_transactions_page, token=emulator.token_a)
    ]
    assert not {tx.location_uid for tx in txs_a} & hidden

    uid = sorted(hidden)[0]
    with pytest.raises(NotFound):
        await live.get_location(uid, token=emulator.token_a)
    assert (await live.get_location(uid, token=emulator.token_b)).id == uid


# --- faults map to typed errors --------------------------------------------------------------


async def test_429_carries_retry_after(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getLocations", Fault(kind="status", status=429, retry_after=30), times=1)
    with pytest.raises(RateLimited) as caught:
        await live.list_locations(token=emulator.token_a)
    assert caught.value.retry_after_s == 30
    assert counter(emulator, "getLocations") == 1  # 30 s exceeds what a request may wait


async def test_a_short_retry_after_is_waited_out(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getLocations", Fault(kind="status", status=429, retry_after=0), times=1)
    assert await live.list_locations(token=emulator.token_a)
    assert counter(emulator, "getLocations") == 2


async def test_a_get_meeting_one_503_is_retried_once(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getLocation", Fault(kind="status", status=503), times=1)
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    assert (await live.get_location(uid, token=emulator.token_a)).id == uid
    assert counter(emulator, "getLocation") == 2


async def test_persistent_503_is_capped(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getNetworkStatus", Fault(kind="status", status=503), times=None)
    with pytest.raises(UpstreamUnavailable):
        await live.network_status_page(token=emulator.token_a)
    assert counter(emulator, "getNetworkStatus") == FAST.max_attempts


async def test_a_post_meeting_503_is_sent_once(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("postLocation", Fault(kind="status", status=503), times=1)
    with pytest.raises(UpstreamUnavailable):
        await live.create_location(LocationInput(name="Once"), token=emulator.token_a)
    assert counter(emulator, "postLocation") == 1


async def test_a_patch_meeting_503_is_sent_once(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("patchLocation", Fault(kind="status", status=503), times=1)
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    with pytest.raises(UpstreamUnavailable):
        await live.update_location(uid, LocationInput(name="Once"), token=emulator.token_a)
    assert counter(emulator, "patchLocation") == 1


async def test_a_dropped_post_is_sent_once(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("postLocation", Fault(kind="drop"), times=1)
    with pytest.raises(UpstreamUnavailable):
        await live.create_location(LocationInput(name="Once"), token=emulator.token_a)
    assert counter(emulator, "postLocation") == 1


async def test_a_slow_answer_times_out(emulator: Any, real_client: RealClientFactory) -> None:
    emulator.state.inject("getLocations", Fault(kind="delay", delay_ms=500), times=1)
    async with real_client(timeout_s=0.2, connect_timeout_s=0.2, max_connections=2) as http:
        client = UpstreamClient(http, emulator.url, policy=FAST)
        with pytest.raises(UpstreamTimeout):
            await client.list_locations(token=emulator.token_a)
    assert counter(emulator, "getLocations") == 1  # a read timeout is not retried


async def test_the_request_deadline_bounds_a_slow_answer(
    live: UpstreamClient, emulator: Any
) -> None:
    emulator.state.inject("getLocations", Fault(kind="delay", delay_ms=500), times=1)
    # The answer would come, whole, after 500 ms: only the deadline can make this fail.
    with pytest.raises(UpstreamTimeout, match="deadline"):
        await live.list_locations(token=emulator.token_a, deadline=time.monotonic() + 0.2)
    assert counter(emulator, "getLocations") == 1


async def test_a_malformed_body_is_a_protocol_error(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("getLocationStations", Fault(kind="malformed"), times=1)
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    with pytest.raises(UpstreamProtocolError):
        await live.location_stations(uid, token=emulator.token_a)
    assert counter(emulator, "getLocationStations") == 1


async def test_a_dropped_connection_is_unavailable(
    emulator: Any, real_client: RealClientFactory
) -> None:
    emulator.state.inject("listStations", Fault(kind="drop"), times=1)
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=2) as http:
        client = UpstreamClient(http, emulator.url, policy=RetryPolicy(max_attempts=1))
        with pytest.raises(UpstreamUnavailable):
            await client.list_stations(token=emulator.token_a)


async def test_a_dropped_get_is_retried(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("listStations", Fault(kind="drop"), times=1)
    assert await live.list_stations(token=emulator.token_a)
    assert counter(emulator, "listStations") == 2
