"""Redis stopped mid-run, under two gateway processes: before, the cache, APQ, rate limits
and idempotency keys work across replicas; while Redis is hung (SIGSTOP) or gone
(SIGKILL), each degrades as the README's *Scaling* table says and no request hangs; with a
new redis-server on the same port, each works again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.scale.redis_process import RedisProcess, redis_process
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer

LIST = {"query": "{ locations(first: 3) { nodes { id name } } }"}  # one GET /locations
DOCUMENT = "query Two { locations(first: 2) { nodes { id } } }"
APQ = {
    "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(DOCUMENT.encode()).hexdigest()}
}
PING = {"query": "{ __typename }"}  # no upstream call
CREATE = """mutation($name: String!, $key: String) {
  createLocation(input: {name: $name}, idempotencyKey: $key) { id }
}"""
BURST = 8  # each phase sends tenant C one more ping than this; A and B fewer


@pytest.fixture
def redis() -> Iterator[RedisProcess]:
    with redis_process() as server:
        yield server


@pytest.fixture
def pair(redis: RedisProcess, emulator_server: SharedServer) -> Iterator[list[str]]:
    env = {
        "GATEWAY_REDIS_URL": redis.url,
        "GATEWAY_REDIS_TIMEOUT_S": "0.2",
        "GATEWAY_RESPONSE_CACHE": "true",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "1",  # nothing refills while the test runs
        "GATEWAY_RATE_LIMIT_BURST": str(BURST),
    }
    with replicas(2, emulator_server.url, env) as urls:
        yield [url + "/graphql" for url in urls]


class Client:
    """The test's requests, each bounded by httpx's timeout: a hang fails, never waits."""

    def __init__(self, http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
        self.http = http
        self.emulator = emulator

    def calls(self, operation: str) -> int:
        return self.emulator.state.counters[operation]

    async def post(self, url: str, token: str, payload: dict[str, Any]) -> httpx.Response:
        return await self.http.post(url, json=payload, headers=bearer(token))

    async def read(self, url: str) -> dict[str, Any]:
        answer = await self.post(url, self.emulator.token_a, LIST)
        assert answer.status_code == 200
        body: dict[str, Any] = answer.json()
        assert "errors" not in body
        return body

    async def persisted(self, url: str, *, text: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"extensions": APQ}
        if text:
            payload["query"] = DOCUMENT
        body: dict[str, Any] = (await self.post(url, self.emulator.token_a, payload)).json()
        return body

    async def pings(self, pair: list[str]) -> list[httpx.Response]:
        return [await self.post(pair[i % 2], self.emulator.token_c, PING) for i in range(BURST + 1)]

    async def create(self, url: str, name: str, key: str | None) -> dict[str, Any]:
        payload = {"query": CREATE, "variables": {"name": name, "key": key}}
        body: dict[str, Any] = (await self.post(url, self.emulator.token_b, payload)).json()
        return body

    def created(self, name: str) -> int:
        return sum(1 for loc in self.emulator.state.network.locations if loc.name == name)


def not_found(body: dict[str, Any]) -> bool:
    return bool(body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND")


async def features_work(client: Client, pair: list[str], name: str, key: str) -> dict[str, Any]:
    """Every feature shared across the two replicas; answers A's list read."""
    r0, r1 = pair
    # The cache: a read on one replica is a hit on the other.
    before = client.calls("getLocations")
    listed = await client.read(r0)
    assert await client.read(r1) == listed
    assert client.calls("getLocations") == before + 1
    # APQ: unknown, registered on one replica, found on the other.
    assert not_found(await client.persisted(r1, text=False))
    assert (await client.persisted(r0, text=True))["data"]["locations"]["nodes"]
    assert (await client.persisted(r1, text=False))["data"]["locations"]["nodes"]
    # Rate limits: one bucket for both replicas.
    pings = await client.pings(pair)
    assert [p.status_code for p in pings] == [200] * BURST + [429]
    assert pings[-1].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Idempotency: a duplicate on the other replica gets the first id, nothing twice.
    creates = client.calls("postLocation")
    first = await client.create(r0, name, key)
    again = await client.create(r1, name, key)
    assert again["data"] == first["data"] and first["data"]["createLocation"]["id"]
    assert client.calls("postLocation") == creates + 1
    assert client.created(name) == 1
    return listed


@pytest.mark.parametrize("outage", ["hung", "down"])
async def test_redis_stopped_mid_run_degrades_as_documented_then_recovers(
    outage: str, redis: RedisProcess, pair: list[str], emulator: RunningEmulator
) -> None:
    r0, r1 = pair
    async with httpx.AsyncClient(timeout=30) as http:  # a hang guard, not a measure
        client = Client(http, emulator)
        listed = await features_work(client, pair, "Depot before", "key-before")

        if outage == "hung":
            redis.pause()
        else:
            redis.kill()

        # The cache fails open: every read goes upstream, and is answered the same.
        before = client.calls("getLocations")
        assert await client.read(r0) == listed
        assert await client.read(r1) == listed
        assert client.calls("getLocations") == before + 2
        # Rate limits fail open: C, past its burst, is served, uncounted.
        pings = await client.pings(pair)
        assert [p.status_code for p in pings] == [200] * (BURST + 1)
        assert all("ratelimit-remaining" not in p.headers for p in pings)
        # APQ misses: the hash alone is not found, the text with it runs.
        assert not_found(await client.persisted(r0, text=False))
        assert (await client.persisted(r1, text=True))["data"]["locations"]["nodes"]
        # Keyed creates fail closed on both replicas, and nothing is sent upstream.
        creates = client.calls("postLocation")
        for url in pair:
            body = await client.create(url, "Depot during", "key-during")
            assert body["data"] == {"createLocation": None}
            assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_UNAVAILABLE"
        assert client.calls("postLocation") == creates
        assert client.created("Depot during") == 0
        # Without a key nothing needs Redis: the create goes through, once.
        plain = await client.create(r1, "Depot unkeyed", None)
        assert plain["data"]["createLocation"]["id"]
        assert client.calls("postLocation") == creates + 1
        assert client.created("Depot unkeyed") == 1

        # A new redis-server on the same port, empty: every feature works again.
        redis.kill()
        redis.start()
        assert await features_work(client, pair, "Depot during", "key-during") == listed
