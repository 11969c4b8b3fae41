"""How long the response cache keeps an answer: the upstream's Cache-Control when it sends
one (no-store, max-age), the contract's default when not; network status and power only
when GATEWAY_RESPONSE_CACHE_LIVE_S is set; and entries the in-process store drops because
it is full are counted. Calls are counted at the emulator, over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.shared.memory import MemoryState
from gateway.upstream import contract
from gateway.upstream.response_cache import (
    MAX_AGE_FACTOR,
    Fetched,
    ResponseCache,
    fresh_for_s,
)
from tests.gateway.conftest import Gateway, gateway_settings
from tests.support import RunningEmulator, serving

LIST = "{ locations(first: 3) { nodes { id name } } }"  # one GET /locations
STATUS = "{ networkSummary { stationCount } }"  # GET /locations/networkStatus
DEFAULT_S = contract.FRESH_FOR_S[contract.LIST_LOCATIONS]


@asynccontextmanager
async def running(emulator: RunningEmulator, **overrides: Any) -> AsyncIterator[Gateway]:
    settings = gateway_settings(emulator.url, response_cache=True, **overrides)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        yield Gateway(url, http, settings)


async def cache_control(emulator: RunningEmulator, operation: str, value: str | None) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            emulator.url + "/_emulator/cache-control",
            json={"operation": operation, "value": value},
        )
    assert answer.status_code == 200, answer.text


async def eventually(check: Callable[[], Any], guard_s: float) -> None:
    """Await `check()` turning true; `guard_s` only stops a broken test from hanging."""
    until = time.monotonic() + guard_s
    while not await check():
        assert time.monotonic() < until, "gave up waiting"
        await asyncio.sleep(0.1)


# --- the pure parser -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 30.0),
        ("", 30.0),
        ("no-store", 0.0),
        ("no-cache", 0.0),
        ("private, No-Cache", 0.0),
        ("max-age=0", 0.0),
        ("max-age=5", 5.0),
        ("private, max-age=120", 120.0),
        ('max-age="7"', 7.0),
        ("max-age=100000", 30.0 * MAX_AGE_FACTOR),  # capped
        ("max-age=soon", 30.0),  # unreadable: the default
        ("max-age=60, no-store", 0.0),  # no-store wins wherever it stands
        ("public", 30.0),
    ],
)
def test_cache_control_sets_the_life_of_an_entry(header: str | None, expected: float) -> None:
    assert fresh_for_s(header, 30.0) == expected


# --- the upstream's Cache-Control, end to end ------------------------------------------------


async def test_no_store_keeps_every_read_upstream(emulator: RunningEmulator) -> None:
    await cache_control(emulator, "getLocations", "no-store")
    async with running(emulator) as gateway:
        first = await gateway.query(LIST, token=emulator.token_a)
        second = await gateway.query(LIST, token=emulator.token_a)
    assert first == second
    assert emulator.state.counters["getLocations"] == 2


async def test_without_a_header_the_contracts_default_holds(emulator: RunningEmulator) -> None:
    async with running(emulator) as gateway:
        for _ in range(3):
            await gateway.query(LIST, token=emulator.token_a)
    assert emulator.state.counters["getLocations"] == 1


async def test_max_age_outlives_the_default(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A default of 0.5 s, so that "longer than the default" is short to wait for.
    monkeypatch.setitem(contract.FRESH_FOR_S, contract.LIST_LOCATIONS, 0.5)
    async with running(emulator) as gateway:
        # Without a header the entry lapses after its default: a read goes upstream again.
        await gateway.query(LIST, token=emulator.token_b)

        async def lapsed() -> bool:
            await gateway.query(LIST, token=emulator.token_b)
            return emulator.state.counters["getLocations"] > 1

        await eventually(lapsed, guard_s=10)
        # With max-age=4 (8 times the default, under the cap), the entry outlives 0.5 s.
        emulator.state.reset()
        await cache_control(emulator, "getLocations", "max-age=4")
        await gateway.query(LIST, token=emulator.token_a)
        started = time.monotonic()
        await asyncio.sleep(1.5)  # three defaults
        await gateway.query(LIST, token=emulator.token_a)
        if time.monotonic() - started < 4:  # a stalled machine proves nothing either way
            assert emulator.state.counters["getLocations"] == 1


async def test_the_emulator_sends_the_header_only_until_reset(emulator: RunningEmulator) -> None:
    await cache_control(emulator, "getLocations", "max-age=9")
    async with httpx.AsyncClient() as http:
        headers = {"Authorization": f"Bearer {emulator.token_a}"}
        answer = await http.get(emulator.url + "/locations", headers=headers)
        assert answer.headers["cache-control"] == "max-age=9"
        await http.post(emulator.url + "/_emulator/reset")
        answer = await http.get(emulator.url + "/locations", headers=headers)
        assert "cache-control" not in answer.headers
        refused = await http.post(
            emulator.url + "/_emulator/cache-control", json={"operation": "nope", "value": "x"}
        )
        assert refused.status_code == 400


# --- network status and power: opt-in ---------------------------------------------------------


async def test_status_reads_are_not_cached_by_default(emulator: RunningEmulator) -> None:
    async with running(emulator) as gateway:
        first = await gateway.query(STATUS, token=emulator.token_a)
        once = emulator.state.counters["getNetworkStatus"]
        second = await gateway.query(STATUS, token=emulator.token_a)
    assert first == second
    assert once >= 1
    assert emulator.state.counters["getNetworkStatus"] == 2 * once


async def test_status_reads_are_cached_when_configured(emulator: RunningEmulator) -> None:
    async with running(emulator, response_cache_live_s=60.0) as gateway:
        first = await gateway.query(STATUS, token=emulator.token_a)
        once = emulator.state.counters["getNetworkStatus"]
        second = await gateway.query(STATUS, token=emulator.token_a)
    assert first == second
    assert once >= 1
    assert emulator.state.counters["getNetworkStatus"] == once


# --- evictions of the in-process store --------------------------------------------------------


async def test_a_full_memory_store_counts_its_evictions() -> None:
    evicted: list[str] = []
    outcomes: list[str] = []
    store = MemoryState(max_keys=3, on_evict=lambda: evicted.append("eviction"))
    cache = ResponseCache(store, on_outcome=outcomes.append)

    async def fetch() -> Fetched:
        return Fetched(b"{}")

    # Each read leaves one entry, and its lock takes a slot while it fetches: from the
    # third read on, the store is full when the entry is written, and the oldest goes.
    for n in range(5):
        await cache.read(contract.LIST_LOCATIONS, "tok", f"/locations?n={n}", fetch)
    assert store.evictions == 3
    assert evicted == ["eviction"] * 3
    assert outcomes == ["miss"] * 5


async def test_evictions_are_a_metric(emulator: RunningEmulator) -> None:
    settings = gateway_settings(emulator.url, response_cache=True)
    app = create_app(settings)
    async with serving(app) as url, httpx.AsyncClient(timeout=30) as http:
        # The app's own store holds 10,000 entries: rather than 10,001 distinct reads,
        # fill it through the store the app gave its cache, then read once more.
        store = app.state.upstream_client._sender.cache._state
        assert isinstance(store, MemoryState)
        for n in range(10_000):
            await store.set(f"cache:filler:{n}", b"", ttl_s=60)
        gateway = Gateway(url, http, settings)
        await gateway.query(LIST, token=emulator.token_a)  # its lock and entry push two out
        text = (await http.get(url + "/metrics")).text
    assert store.evictions == 2
    assert 'gateway_response_cache_total{outcome="eviction"} 2.0' in text
