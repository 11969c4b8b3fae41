"""The response cache: location reads served again per credential, never across tenants,
one call for identical reads in flight, and a tenant's writes drop its stale entries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from tests.gateway.conftest import Gateway, gateway_settings
from tests.scale.conftest import RedisServer
from tests.support import RunningEmulator, serving

LIST = "{ locations(first: 3) { nodes { id name } } }"
ONE = "query($id: ID!) { location(id: $id) { id name } }"
RENAME = """mutation($id: ID!, $name: String!) {
  updateLocation(id: $id, input: {name: $name}) { id }
}"""


@pytest.fixture
async def gateway(emulator: RunningEmulator, redis_server: RedisServer) -> AsyncIterator[Gateway]:
    settings = gateway_settings(
        emulator.url,
        response_cache=True,
        redis_url=redis_server.url,
        redis_key_prefix=redis_server.prefix(),
    )
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        yield Gateway(url, http, settings)


def calls(emulator: RunningEmulator) -> dict[str, int]:
    return {op: n for op, n in emulator.state.counters.items() if n}


async def test_a_read_is_served_again_to_its_tenant_only(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    a1 = await gateway.query(LIST, token=emulator.token_a)
    a2 = await gateway.query(LIST, token=emulator.token_a)
    assert a2 == a1
    assert calls(emulator) == {"getLocations": 1}
    # Another tenant's same query is its own call, answered with its own rows.
    b = await gateway.query(LIST, token=emulator.token_b)
    assert calls(emulator) == {"getLocations": 2}
    emulator.state.reset()
    uncached = await gateway.query(
        "{ b: locations(first: 3) { nodes { id name } } }", token=emulator.token_b
    )
    assert b["data"]["locations"] == uncached["data"]["b"]
    assert b["data"] != a1["data"]


async def test_identical_reads_in_flight_make_one_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.latency_ms = 50  # the first is still in flight when the rest ask
    bodies = await asyncio.gather(*(gateway.query(LIST, token=emulator.token_a) for _ in range(10)))
    assert all(body == bodies[0] for body in bodies)
    assert calls(emulator) == {"getLocations": 1}


async def first_location(gateway: Gateway, token: str) -> dict[str, Any]:
    body = await gateway.query(LIST, token=token)
    node: dict[str, Any] = body["data"]["locations"]["nodes"][0]
    return node


async def test_a_write_drops_the_writers_entries(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    location = await first_location(gateway, emulator.token_a)
    one = await gateway.query(ONE, {"id": location["id"]}, token=emulator.token_a)
    assert one["data"]["location"]["name"] == location["name"]
    emulator.state.reset()
    renamed = await gateway.query(
        RENAME, {"id": location["id"], "name": "Renamed"}, token=emulator.token_a
    )
    assert renamed["data"]["updateLocation"]["id"] == location["id"]
    emulator.state.reset()
    # Both cached reads of the writer went stale: each goes upstream once, and is new.
    again = await gateway.query(ONE, {"id": location["id"]}, token=emulator.token_a)
    assert again["data"]["location"]["name"] == "Renamed"
    assert (await first_location(gateway, emulator.token_a))["name"] == "Renamed"
    assert calls(emulator)["getLocations"] == 1
    assert sum(calls(emulator).values()) == 2


async def test_hits_and_misses_are_metrics(gateway: Gateway, emulator: RunningEmulator) -> None:
    for _ in range(3):
        await gateway.query(LIST, token=emulator.token_c)
    text = (await gateway.http.get(gateway.url + "/metrics")).text
    assert 'gateway_response_cache_total{outcome="miss"} 1.0' in text
    assert 'gateway_response_cache_total{outcome="hit"} 2.0' in text
