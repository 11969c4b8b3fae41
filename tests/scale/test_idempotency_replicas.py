"""Idempotency keys across replicas: two gateway processes share their keys in Redis, so
a duplicate `createLocation` sent to either one never creates a second location."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.scale.conftest import RedisServer
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer

CREATE = """mutation($name: String!, $key: String) {
  createLocation(input: {name: $name}, idempotencyKey: $key) { id }
}"""


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer, emulator_server: SharedServer) -> Iterator[list[str]]:
    """Two replicas sharing one Redis, in front of whichever emulator a test mounts."""
    env = {"GATEWAY_REDIS_URL": redis_server.url, "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix()}
    with replicas(2, emulator_server.url, env) as urls:
        yield urls


async def create(
    http: httpx.AsyncClient, url: str, token: str, name: str, key: str | None
) -> dict[str, Any]:
    answer = await http.post(
        url + "/graphql",
        json={"query": CREATE, "variables": {"name": name, "key": key}},
        headers=bearer(token),
    )
    body: dict[str, Any] = answer.json()
    return body


def created(emulator: RunningEmulator, name: str) -> int:
    return sum(1 for loc in emulator.state.network.locations if loc.name == name)


async def test_twenty_duplicates_over_two_replicas_create_one_location(
    pair: list[str], emulator: RunningEmulator
) -> None:
    emulator.state.latency_ms = 50  # the first create is still in flight when the rest ask
    emulator.state.reset()
    async with httpx.AsyncClient(timeout=30) as http:
        bodies = await asyncio.gather(
            *(create(http, pair[i % 2], emulator.token_a, "Depot 2R", "key-2r") for i in range(20))
        )
        ids = {body["data"]["createLocation"]["id"] for body in bodies}
        assert len(ids) == 1
        assert emulator.state.counters["postLocation"] == 1
        assert created(emulator, "Depot 2R") == 1

        # Another tenant's same key is its own: one more create, with its own id.
        other = await create(http, pair[1], emulator.token_b, "Depot 2R", "key-2r")
        assert other["data"]["createLocation"]["id"] not in ids
        assert emulator.state.counters["postLocation"] == 2
        assert created(emulator, "Depot 2R") == 2

        # A later retry on either replica gets the first id and sends nothing.
        again = await create(http, pair[0], emulator.token_a, "Depot 2R", "key-2r")
        assert again["data"]["createLocation"]["id"] in ids
        assert emulator.state.counters["postLocation"] == 2


async def test_redis_down_refuses_a_keyed_create_and_sends_nothing(
    without_redis: str, emulator: RunningEmulator
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(2):
            body = await create(http, without_redis, emulator.token_a, "Depot D", "key-d")
            assert body["data"] == {"createLocation": None}
            assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_UNAVAILABLE"
        assert emulator.state.counters["postLocation"] == 0

        # Without a key nothing needs the store: the create goes through, once.
        plain = await create(http, without_redis, emulator.token_a, "Depot D", None)
        assert plain["data"]["createLocation"]["id"]
        assert emulator.state.counters["postLocation"] == 1
        assert created(emulator, "Depot D") == 1
