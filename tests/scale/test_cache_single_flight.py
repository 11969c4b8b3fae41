"""Single-flight across the fleet: identical reads in flight on two gateway processes make
one upstream call (a lock in Redis), never across tenants; and a lock whose holder died or
failed, or a Redis that hangs, costs an extra call, never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.shared import SharedState
from gateway.shared.redis_state import RedisState
from gateway.upstream.response_cache import Fetched, ResponseCache, entry_key
from tests.scale.conftest import RedisServer
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer

LIST = {"query": "{ locations(first: 3) { nodes { id name } } }"}  # one GET /locations
READS = 12
SLOW_MS = 300  # the first read is still in flight upstream when every other one asks
ROUTE = ("GET", "/locations")


@pytest.fixture(scope="module")
def prefix(redis_server: RedisServer) -> str:
    return redis_server.prefix()


@pytest.fixture(scope="module")
def pair(
    redis_server: RedisServer, prefix: str, emulator_server: SharedServer
) -> Iterator[list[str]]:
    env = {
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_REDIS_KEY_PREFIX": prefix,
        "GATEWAY_RESPONSE_CACHE": "true",
    }
    with replicas(2, emulator_server.url, env) as urls:
        yield urls


@pytest.fixture
async def store(redis_server: RedisServer, prefix: str) -> AsyncIterator[SharedState]:
    """The replicas' own keys, emptied before each test: each starts from a cold cache."""
    state = RedisState(redis_server.url, prefix=prefix)
    await state.delete_prefix("")
    yield state
    await state.close()


async def read(http: httpx.AsyncClient, url: str, token: str) -> dict[str, Any]:
    answer = await http.post(url + "/graphql", json=LIST, headers=bearer(token))
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    assert "errors" not in body
    return body


async def test_identical_reads_over_two_replicas_make_one_call(
    pair: list[str], emulator: RunningEmulator, store: SharedState
) -> None:
    emulator.state.latency_ms = SLOW_MS
    async with httpx.AsyncClient(timeout=30) as http:
        bodies = await asyncio.gather(
            *(read(http, pair[i % 2], emulator.token_a) for i in range(READS))
        )
    assert all(body == bodies[0] for body in bodies)
    assert dict(emulator.state.counters) == {"getLocations": 1}


async def test_two_tenants_never_share_a_lock_or_an_entry(
    pair: list[str], emulator: RunningEmulator, store: SharedState
) -> None:
    emulator.state.latency_ms = SLOW_MS
    tokens = [emulator.token_a, emulator.token_b]
    async with httpx.AsyncClient(timeout=30) as http:
        bodies = await asyncio.gather(
            *(read(http, pair[i % 2], tokens[(i // 2) % 2]) for i in range(READS))
        )
        a = [body for i, body in enumerate(bodies) if (i // 2) % 2 == 0]
        b = [body for i, body in enumerate(bodies) if (i // 2) % 2 == 1]
        assert all(body == a[0] for body in a) and all(body == b[0] for body in b)
        assert a[0] != b[0]
        # One call per tenant, and the two overlapped: neither waited on the other's lock.
        assert dict(emulator.state.counters) == {"getLocations": 2}
        assert emulator.state.max_in_flight == 2
        # B's cached answer is B's own rows: what B reads with nothing cached.
        await store.delete_prefix("")
        emulator.state.latency_ms = 0
        assert await read(http, pair[1], emulator.token_b) == b[0]


def counted(body: bytes) -> tuple[list[int], Any]:
    calls = [0]

    async def fetch() -> Fetched:
        calls[0] += 1
        await asyncio.sleep(0)
        return Fetched(body)

    return calls, fetch


async def test_a_lock_whose_holder_died_is_waited_out_then_read_through(
    store: SharedState,
) -> None:
    # The lock of a replica that crashed mid-fetch: it never writes the entry nor unlocks.
    cache = ResponseCache(store, lock_ttl_s=0.3)
    lock = "lock:" + entry_key("tok", ROUTE, "/locations?")
    await store.set(lock, b"dead holder", ttl_s=30)
    calls, fetch = counted(b'{"locations": []}')
    assert await cache.read(ROUTE, "tok", "/locations?", fetch) == b'{"locations": []}'
    assert calls == [1]
    # What it fetched is an entry now: the next read, on any replica, is a hit.
    other = ResponseCache(store, lock_ttl_s=0.3)
    again, fetch_again = counted(b"other")
    assert await other.read(ROUTE, "tok", "/locations?", fetch_again) == b'{"locations": []}'
    assert again == [0]


async def test_a_failed_fetch_releases_the_lock_and_the_waiter_reads_through(
    store: SharedState,
) -> None:
    # Two caches on one store: two replicas, each with its own in-process single-flight.
    leader, follower = ResponseCache(store), ResponseCache(store)
    started = asyncio.Event()

    async def failing() -> Fetched:
        started.set()
        await asyncio.sleep(0.1)
        raise RuntimeError("upstream failed")

    calls, fetch = counted(b"body")
    first = asyncio.create_task(leader.read(ROUTE, "tok", "/locations?", failing))
    await started.wait()
    second = asyncio.create_task(follower.read(ROUTE, "tok", "/locations?", fetch))
    with pytest.raises(RuntimeError):
        await first
    # Long before the lock's 11 s: the release told the waiter to fetch for itself.
    assert await asyncio.wait_for(second, timeout=5) == b"body"
    assert calls == [1]


async def test_a_hung_redis_reads_through(black_hole: str) -> None:
    state = RedisState(black_hole, timeout_s=0.2)
    cache = ResponseCache(state)
    calls, fetch = counted(b"body")
    assert [await cache.read(ROUTE, "tok", "/locations?", fetch) for _ in range(2)] == [
        b"body",
        b"body",
    ]
    assert calls == [2]
    await state.close()
