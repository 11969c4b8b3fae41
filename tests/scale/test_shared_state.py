"""`SharedState`: both backends keep the same promises, the Redis one on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.shared import SharedState, SharedStateError
from gateway.shared.memory import MemoryState
from gateway.shared.redis_state import RedisState
from tests.scale.conftest import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def state(
    request: pytest.FixtureRequest, redis_server: RedisServer
) -> AsyncIterator[SharedState]:
    backend: SharedState
    if request.param == "memory":
        backend = MemoryState()
    else:
        backend = RedisState(redis_server.url, prefix=redis_server.prefix())
    yield backend
    await backend.close()


async def test_values_are_set_got_and_deleted(state: SharedState) -> None:
    assert await state.get("k") is None
    await state.set("k", b"v", ttl_s=60)
    assert await state.get("k") == b"v"
    await state.delete("k")
    assert await state.get("k") is None


async def test_set_if_absent_stores_only_the_first(state: SharedState) -> None:
    assert await state.set_if_absent("claim", b"first", ttl_s=60)
    assert not await state.set_if_absent("claim", b"second", ttl_s=60)
    assert await state.get("claim") == b"first"


async def test_delete_if_drops_only_its_own_value(state: SharedState) -> None:
    await state.set("lock", b"theirs", ttl_s=60)
    assert not await state.delete_if("lock", b"mine")
    assert await state.get("lock") == b"theirs"
    assert await state.delete_if("lock", b"theirs")
    assert await state.get("lock") is None
    assert not await state.delete_if("lock", b"theirs")  # gone: nothing to drop


async def test_delete_prefix_drops_only_its_keys(state: SharedState) -> None:
    for key in ("t1:a", "t1:b", "t1*:c", "t2:a"):
        await state.set(key, b"x", ttl_s=60)
    assert await state.delete_prefix("t1:") == 2
    assert await state.get("t1*:c") == b"x"  # a glob character is a literal
    assert await state.get("t2:a") == b"x"


async def test_counters_count(state: SharedState) -> None:
    assert [await state.incr("n", ttl_s=60) for _ in range(3)] == [1, 2, 3]


async def test_gcra_lets_a_burst_through_then_refuses(state: SharedState) -> None:
    # One request a minute: nothing refills while the test runs.
    decisions = [await state.gcra("bucket", per_s=1 / 60, burst=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert 0 < decisions[3].retry_after_s <= 60


async def test_a_hung_redis_fails_with_shared_state_error(black_hole: str) -> None:
    state = RedisState(black_hole, timeout_s=0.2)
    with pytest.raises(SharedStateError):
        await state.set_if_absent("claim", b"x", ttl_s=60)
    with pytest.raises(SharedStateError):
        await state.gcra("bucket", per_s=1, burst=1)
    await state.close()
