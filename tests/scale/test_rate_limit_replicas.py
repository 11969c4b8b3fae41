"""Rate limits per credential, shared by replicas: a burst spread over two gateway
processes is counted once, in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.scale.conftest import RedisServer
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer

BURST = 10
PING = {"query": "{ __typename }"}  # answered without an upstream call


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer, emulator_server: SharedServer) -> Iterator[list[str]]:
    # One request a minute refills the bucket: nothing comes back while the test runs.
    env = {
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix(),
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "1",
        "GATEWAY_RATE_LIMIT_BURST": str(BURST),
    }
    with replicas(2, emulator_server.url, env) as urls:
        yield urls


async def test_one_burst_over_two_replicas_is_limited_once(
    pair: list[str], emulator: RunningEmulator
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(
            *(
                http.post(pair[i % 2] + "/graphql", json=PING, headers=bearer(emulator.token_a))
                for i in range(BURST + 1)
            )
        )
        refused = [a for a in answers if a.status_code == 429]
        assert len(refused) == 1
        assert sorted(a.status_code for a in answers) == [200] * BURST + [429]
        error = refused[0].json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        retry_after = error["extensions"]["retryAfterSeconds"]
        assert refused[0].headers["retry-after"] == str(retry_after)
        assert 0 < retry_after <= 60
        remaining = sorted(int(a.headers["ratelimit-remaining"]) for a in answers)
        assert remaining == [0, *range(BURST)]  # each allowed one saw one fewer left
        assert all(a.headers["ratelimit-limit"] == str(BURST) for a in answers)

        # Another credential has its own bucket.
        other = await http.post(pair[1] + "/graphql", json=PING, headers=bearer(emulator.token_b))
        assert other.status_code == 200
        assert other.headers["ratelimit-remaining"] == str(BURST - 1)


async def test_a_hung_redis_lets_requests_through(
    without_redis: str, emulator: RunningEmulator
) -> None:
    # A limit of one request a minute, were Redis answering: the second would be refused.
    async with httpx.AsyncClient(timeout=30) as http:
        answers = [
            await http.post(without_redis + "/graphql", json=PING, headers=bearer(emulator.token_a))
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.json() == {"data": {"__typename": "Query"}} for a in answers)
    assert all("ratelimit-remaining" not in a.headers for a in answers)
