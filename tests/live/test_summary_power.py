"""`networkSummaryChanges { currentPowerKw }` reads the credential's shared power poll:
power calls are counted per poll, never per event or subscriber."""

from __future__ import annotations

import asyncio

import pytest

from tests.live.conftest import WAIT_S, Events, LiveGateway
from tests.live.oracle import evse_states, power
from tests.live.test_kinds import step_until

DOCUMENT = "subscription { networkSummaryChanges { evseCount activeSessions currentPowerKw } }"
SUBSCRIBERS = 5


def total_kw(gateway: LiveGateway) -> float:
    emulator = gateway.emulator
    return sum(kw for kw, _ in power(emulator, emulator.tenant_a).values())


async def test_summary_power_costs_one_call_per_power_poll(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a) as session:
        subscriptions = [Events(session, DOCUMENT) for _ in range(SUBSCRIBERS)]
        await gateway.until_subscriptions(SUBSCRIBERS)  # the power watch is not counted
        assert sorted(c.key.resource for c in gateway.live.cohorts()) == ["power", "status"]
        for events in subscriptions:
            [first] = await events.until(1)
            assert first["networkSummaryChanges"]["currentPowerKw"] == pytest.approx(
                total_kw(gateway), abs=1e-3
            )

        def sessions() -> int:
            states = evse_states(emulator, emulator.tenant_a).values()
            return sum(1 for _, tx, tx_id in states if tx_id and tx not in (None, "Ended"))

        await step_until(gateway, sessions)  # a count (and so the power) changes
        await gateway.reset_counts()
        by_resource = {c.key.resource: c for c in gateway.live.cohorts()}
        # Power first, then status: the events then carry the power of this step.
        await asyncio.wait_for(by_resource["power"].poll_now(), WAIT_S)
        await asyncio.wait_for(by_resource["status"].poll_now(), WAIT_S)
        for events in subscriptions:
            _, second = await events.until(2)
            assert second["networkSummaryChanges"]["currentPowerKw"] == pytest.approx(
                total_kw(gateway), abs=1e-3
            )
        counts = await gateway.counts()
        assert counts.get("getCurrentlyUsedPower") == 1  # one poll, not one per event
        for events in subscriptions:
            await events.stop()
    await gateway.until_cohorts(0)  # the watch left with its subscription
