"""`SharedIdempotencyStore` on a real Redis: the outcomes of `gateway/idempotency.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.errors import BadUserInput, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from gateway.idempotency_shared import SharedIdempotencyStore
from gateway.shared.redis_state import RedisState
from tests.scale.conftest import RedisServer


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[SharedIdempotencyStore]:
    state = RedisState(redis_server.url, prefix=redis_server.prefix())
    yield SharedIdempotencyStore(state, window_s=60, wait_s=0.3)
    await state.close()


class Upstream:
    """Counts creates; each answers with the next outcome given."""

    def __init__(self, *outcomes: str | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def create(self) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_a_retry_gets_the_first_id(store: SharedIdempotencyStore) -> None:
    upstream = Upstream("L1", "L2")
    assert await store.run("tenant", "k", "fp", upstream.create) == "L1"
    assert await store.run("tenant", "k", "fp", upstream.create) == "L1"
    assert await store.run("other-tenant", "k", "fp", upstream.create) == "L2"
    assert upstream.calls == 2


async def test_an_unknown_outcome_is_never_sent_again(store: SharedIdempotencyStore) -> None:
    upstream = Upstream(UpstreamTimeout("late", operation="postLocation"), "L1")
    with pytest.raises(UpstreamTimeout):
        await store.run("tenant", "k", "fp", upstream.create)
    with pytest.raises(UpstreamUnavailable, match="may or may not"):
        await store.run("tenant", "k", "fp", upstream.create)
    assert upstream.calls == 1


async def test_a_refusal_frees_the_key(store: SharedIdempotencyStore) -> None:
    upstream = Upstream(UpstreamRejected("no", operation="postLocation"), "L1")
    with pytest.raises(UpstreamRejected):
        await store.run("tenant", "k", "fp", upstream.create)
    assert await store.run("tenant", "k", "fp", upstream.create) == "L1"
    assert upstream.calls == 2


async def test_other_input_with_the_same_key_is_refused(store: SharedIdempotencyStore) -> None:
    upstream = Upstream("L1")
    await store.run("tenant", "k", "fp", upstream.create)
    with pytest.raises(BadUserInput):
        await store.run("tenant", "k", "other-fp", upstream.create)
    assert upstream.calls == 1
