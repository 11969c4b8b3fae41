"""The upstream's own 429s feed the rate limiter: once the upstream throttles a credential,
its next requests are refused up front on every replica, for the upstream's Retry-After,
at no upstream call; other credentials go on as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.emulator.faults import Fault
from tests.gateway.conftest import gateway_settings
from tests.scale.conftest import RedisServer
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer, serving

LIST = {"query": "{ locations(first: 3) { nodes { id } } }"}  # one GET /locations


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer, emulator_server: SharedServer) -> Iterator[list[str]]:
    # No per-minute limit: the hold-off works without one.
    env = {"GATEWAY_REDIS_URL": redis_server.url, "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix()}
    with replicas(2, emulator_server.url, env) as urls:
        yield urls


def calls(emulator: RunningEmulator) -> int:
    return sum(emulator.state.counters.values())


async def post(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    return await http.post(url + "/graphql", json=LIST, headers=bearer(token))


def refused_for(answer: httpx.Response) -> int:
    """The seconds a refusal up front asks the caller to wait."""
    assert answer.status_code == 429
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    seconds: int = error["extensions"]["retryAfterSeconds"]
    assert answer.headers["retry-after"] == str(seconds)
    return seconds


def upstream_code(answer: httpx.Response) -> Any:
    return answer.json()["errors"][0]["extensions"]["code"]


async def test_an_upstream_429_holds_the_tenant_off_on_every_replica(
    pair: list[str], emulator: RunningEmulator
) -> None:
    # Retry-After 30: past what a GET waits to retry (5 s), so the 429 reaches the caller.
    emulator.state.inject("getLocations", Fault(status=429, retry_after=30), times=1)
    async with httpx.AsyncClient(timeout=30) as http:
        first = await post(http, pair[0], emulator.token_a)
        assert upstream_code(first) == "RATE_LIMITED"
        assert calls(emulator) == 1
        emulator.state.reset()

        # A's next requests, on the other replica and on this one: refused, no call.
        assert 0 < refused_for(await post(http, pair[1], emulator.token_a)) <= 30
        assert 0 < refused_for(await post(http, pair[0], emulator.token_a)) <= 30
        assert calls(emulator) == 0

        # B is not held off: its read goes upstream and is answered.
        other = await post(http, pair[1], emulator.token_b)
        assert other.status_code == 200
        assert len(other.json()["data"]["locations"]["nodes"]) == 3
        assert calls(emulator) == 1


async def test_a_429_without_retry_after_holds_off_a_few_seconds(
    pair: list[str], emulator: RunningEmulator
) -> None:
    # Every attempt of the GET (three, retries included) is throttled.
    emulator.state.inject("getLocations", Fault(status=429), times=3)
    async with httpx.AsyncClient(timeout=30) as http:
        assert upstream_code(await post(http, pair[1], emulator.token_c)) == "RATE_LIMITED"
        assert calls(emulator) == 3
        emulator.state.reset()
        assert 0 < refused_for(await post(http, pair[0], emulator.token_c)) <= 5
        assert calls(emulator) == 0


@pytest.fixture
async def single(emulator: RunningEmulator, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """One in-process gateway without Redis, with `GATEWAY_UPSTREAM_HOLD_OFF_MAX_S` given."""
    settings = gateway_settings(emulator.url, upstream_hold_off_max_s=request.param)
    async with serving(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("single", [2.0], indirect=True)
async def test_the_hold_is_capped_and_kept_in_process_without_redis(
    single: str, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(status=429, retry_after=30), times=1)
    async with httpx.AsyncClient(timeout=30) as http:
        assert upstream_code(await post(http, single, emulator.token_a)) == "RATE_LIMITED"
        emulator.state.reset()
        assert 0 < refused_for(await post(http, single, emulator.token_a)) <= 2
        assert calls(emulator) == 0


@pytest.mark.parametrize("single", [0.0], indirect=True)
async def test_off_the_next_request_goes_upstream(single: str, emulator: RunningEmulator) -> None:
    emulator.state.inject("getLocations", Fault(status=429, retry_after=30), times=1)
    async with httpx.AsyncClient(timeout=30) as http:
        assert upstream_code(await post(http, single, emulator.token_a)) == "RATE_LIMITED"
        emulator.state.reset()
        again = await post(http, single, emulator.token_a)
        assert again.status_code == 200
        assert "ratelimit-remaining" not in again.headers
        assert calls(emulator) == 1
