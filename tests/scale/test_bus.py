"""`RedisBus` on a real Redis: leases only their holder keeps or gives back, boards whose
entries fade by themselves, channels a listener hears (and hears again after Redis came
back), and every call bounded when Redis does not answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from gateway.live.snapshots import ErrorSnapshot, PowerSnapshot, StatusSnapshot
from gateway.live.wire import ERRORS_WIRE, POWER_WIRE, STATUS_WIRE
from gateway.shared import SharedStateError
from gateway.shared.bus import RedisBus
from gateway.upstream.models import (
    EvseStatus,
    HardwareError,
    Instant,
    LocationPower,
    NetworkEvseStatus,
    NetworkLocationStatus,
    NetworkStationStatus,
    TxStatus,
)
from tests.scale.conftest import RedisServer
from tests.scale.redis_process import redis_process

WAIT_S = 20.0  # a guard against a hang, never a measure of speed


@pytest.fixture
async def bus(redis_server: RedisServer) -> AsyncIterator[RedisBus]:
    bus = RedisBus(redis_server.url, prefix=redis_server.prefix())
    yield bus
    await bus.close()


async def test_a_lease_is_kept_and_given_back_by_its_holder_only(bus: RedisBus) -> None:
    assert await bus.claim(["lease"], "a", ttl_s=30) == [True]
    assert await bus.claim(["lease"], "b", ttl_s=30) == [False]
    assert await bus.claim(["lease", "other"], "a", ttl_s=30) == [True, True]  # renewed
    await bus.release("lease", "b")  # not b's to give back
    assert await bus.claim(["lease"], "b", ttl_s=30) == [False]
    await bus.release("lease", "a")
    assert await bus.claim(["lease"], "b", ttl_s=30) == [True]


async def test_a_lease_nobody_renews_runs_out(bus: RedisBus) -> None:
    assert await bus.claim(["lease"], "a", ttl_s=0.05)

    async def taken_by_b() -> None:
        while not (await bus.claim(["lease"], "b", ttl_s=30))[0]:  # noqa: ASYNC110 (Redis's state)
            await asyncio.sleep(0.02)

    await asyncio.wait_for(taken_by_b(), WAIT_S)
    assert await bus.claim(["lease"], "a", ttl_s=30) == [False]


async def test_board_entries_are_read_while_live_and_fade_by_themselves(bus: RedisBus) -> None:
    await bus.post("board", "a", b'["x"]', ttl_s=30)
    await bus.post("board", "b", b"null", ttl_s=0.05)
    await bus.post("board", "a", b'["y"]', ttl_s=30)  # an entry is replaced, not added
    assert (await bus.read("board"))["a"] == b'["y"]'

    async def faded() -> None:
        while "b" in await bus.read("board"):  # noqa: ASYNC110 (Redis's state)
            await asyncio.sleep(0.02)

    await asyncio.wait_for(faded(), WAIT_S)
    assert await bus.read("board") == {"a": b'["y"]'}
    await bus.remove("board", "a")
    assert await bus.read("board") == {}


async def test_a_listener_hears_its_channel_only_and_again_after_redis_came_back() -> None:
    with redis_process() as redis:
        bus = RedisBus(redis.url, timeout_s=0.3)
        heard: list[bytes] = []
        bus.listen("mine", heard.append)

        async def published(message: bytes) -> None:
            while message not in heard:
                with contextlib.suppress(SharedStateError):  # a stale pooled connection
                    await bus.publish("mine", message)  # again: until the listener is on
                await asyncio.sleep(0.05)

        try:
            await asyncio.wait_for(published(b"one"), WAIT_S)
            await bus.publish("theirs", b"not for us")
            redis.kill()
            with pytest.raises(SharedStateError):
                await bus.publish("mine", b"lost")
            redis.start()  # a new Redis on the same port: the listener subscribes again
            await asyncio.wait_for(published(b"two"), WAIT_S)
            assert set(heard) == {b"one", b"two"}  # ours, every time; never "theirs"
        finally:
            await bus.close()


async def test_a_hung_redis_fails_each_call_within_the_timeout() -> None:
    with redis_process() as redis:
        bus = RedisBus(redis.url, timeout_s=0.2)
        try:
            assert await bus.claim(["lease"], "a", ttl_s=30) == [True]
            redis.pause()
            for call in (
                bus.claim(["lease"], "a", ttl_s=30),
                bus.read("board"),
                bus.post("board", "a", b"null", ttl_s=1),
                bus.publish("mine", b"x"),
            ):
                with pytest.raises(SharedStateError):
                    await asyncio.wait_for(call, WAIT_S)
        finally:
            redis.kill()
            await bus.close()


def test_snapshots_survive_the_wire() -> None:
    status_of, tx_of = next(iter(EvseStatus)), next(iter(TxStatus))
    evse = NetworkEvseStatus(evse_id="1", status=status_of, tx_status=tx_of, tx_id="t-1")
    tree = NetworkLocationStatus(
        id="loc-1", name="Depot", stations=(NetworkStationStatus(station_id="st-1", evses=(evse,)),)
    )
    status = StatusSnapshot.of(("loc-1",), [tree])
    assert STATUS_WIRE.decode(STATUS_WIRE.encode(status)) == status
    power = PowerSnapshot.of(None, [LocationPower(location_uid="loc-1", current_power_kw=11.0)])
    assert POWER_WIRE.decode(POWER_WIRE.encode(power)) == power
    row = HardwareError(station_id="st-1", timestamp=Instant.of(datetime(2026, 12, 2, tzinfo=UTC)))
    errors = ErrorSnapshot(None, (row,), frozenset(), {"st-1": "loc-1"})
    again = ERRORS_WIRE.decode(ERRORS_WIRE.encode(errors))
    assert again.rows == errors.rows and again.location_of == {"st-1": "loc-1"}
