"""`createLocation(idempotencyKey:)`: a retry never makes a second location."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

CREATE = """mutation($name: String!, $key: String) {
  createLocation(input: {name: $name}, idempotencyKey: $key) { id }
}"""


async def create(gateway: Gateway, token: str, name: str, key: str | None) -> dict[str, Any]:
    return await gateway.query(CREATE, {"name": name, "key": key}, token=token)


def created(emulator: RunningEmulator, name: str) -> list[Any]:
    return [loc for loc in emulator.state.network.locations if loc.name == name]


async def test_twenty_concurrent_duplicates_create_one_location(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.latency_ms = 50  # the first create is still in flight when the rest ask
    emulator.state.reset()
    bodies = await asyncio.gather(
        *(create(gateway, emulator.token_a, "Depot 20", "key-1") for _ in range(20))
    )
    ids = {body["data"]["createLocation"]["id"] for body in bodies}
    assert len(ids) == 1
    assert emulator.state.counters["postLocation"] == 1
    assert len(created(emulator, "Depot 20")) == 1


async def test_a_retry_gets_the_first_id_without_an_upstream_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    first = await create(gateway, emulator.token_a, "Depot R", "key-r")
    emulator.state.reset()
    again = await create(gateway, emulator.token_a, "Depot R", "key-r")
    assert again["data"] == first["data"]
    assert sum(emulator.state.counters.values()) == 0


async def test_another_callers_key_never_matches(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    a = await create(gateway, emulator.token_a, "Depot T", "shared-key")
    b = await create(gateway, emulator.token_b, "Depot T", "shared-key")
    assert a["data"]["createLocation"]["id"] != b["data"]["createLocation"]["id"]
    assert len(created(emulator, "Depot T")) == 2


async def test_a_key_reused_with_other_input_is_refused(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    await create(gateway, emulator.token_a, "Depot X", "key-x")
    emulator.state.reset()
    body = await create(gateway, emulator.token_a, "Depot Y", "key-x")
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "idempotencyKey"}
    assert sum(emulator.state.counters.values()) == 0


async def test_an_unknown_outcome_is_never_sent_again(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.inject("postLocation", Fault(kind="drop"), times=1)
    first = await create(gateway, emulator.token_a, "Depot U", "key-u")
    assert first["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    again = await create(gateway, emulator.token_a, "Depot U", "key-u")
    assert again["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "may or may not" in again["errors"][0]["message"]
    assert emulator.state.counters["postLocation"] == 1  # the retry sent nothing


async def test_a_refusal_frees_the_key_for_a_retry(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.inject("postLocation", Fault(kind="status", status=400), times=1)
    first = await create(gateway, emulator.token_a, "Depot F", "key-f")
    assert first["errors"][0]["extensions"]["code"] == "UPSTREAM_REJECTED"
    again = await create(gateway, emulator.token_a, "Depot F", "key-f")
    assert again["data"]["createLocation"]["id"]
    assert emulator.state.counters["postLocation"] == 2
    assert len(created(emulator, "Depot F")) == 1
