"""The live layer in /metrics, and what a shutdown does to open subscriptions."""

from __future__ import annotations

import re

import httpx

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.support import RunningEmulator

POWER = "subscription { locationPower { locationId } }"
CHANGES = "subscription { evseStatusChanges { status } }"


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, flags=re.MULTILINE)
    assert match, f"{name}{labels} not in /metrics"
    return float(match.group(1))


async def test_metrics_count_connections_subscriptions_cohorts_polls_events(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a) as session:
        power, changes = Events(session, POWER), Events(session, CHANGES)
        await gateway.until_subscriptions(2)
        for _ in range(100):  # until some EVSE changed, so that an event was offered
            await gateway.advance(1)
            await gateway.settle()
            if changes.received:
                break
        text = (await gateway.admin.get(f"{gateway.url}/metrics")).text
        assert sample(text, "gateway_live_connections") == 1
        assert sample(text, "gateway_live_subscriptions") == 2
        assert sample(text, "gateway_live_cohorts") == 2
        assert sample(text, "gateway_live_polls_total", '{outcome="ok",resource="status"}') >= 2
        assert sample(text, "gateway_live_events_total") >= len(changes.received) > 0
        await power.stop()
        await changes.stop()


async def test_shutdown_closes_live_connections_and_stops_every_poll(
    emulator: RunningEmulator,
) -> None:
    running = live_gateway(emulator, shutdown_timeout_s=2)
    gateway = await running.__aenter__()
    try:
        session_cm = gateway.session(emulator.token_a)
        session = await session_cm.__aenter__()
        events = Events(session, CHANGES)
        await gateway.until_subscriptions(1)
    finally:
        await running.__aexit__(None, None, None)  # the server stops under the client
    assert await events.ended() is not None  # the client saw its connection go
    assert gateway.live.cohort_count == 0
    async with httpx.AsyncClient(base_url=emulator.url, timeout=30) as admin:
        (await admin.post("/_emulator/reset")).raise_for_status()
        (await admin.post("/_emulator/clock/advance", json={"steps": 2})).raise_for_status()
        assert (await admin.get("/_emulator/counters")).json() == {"counts": {}}
    await session_cm.__aexit__(None, None, None)
