"""A failing upstream view: the cohort backs off (a 429's Retry-After wins), its
subscribers stay subscribed, and the first good poll after it delivers again."""

from __future__ import annotations

from typing import Any

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.support import RunningEmulator

POWER = "subscription { locationPower { locationId currentPowerKw } }"


async def fault(gateway: LiveGateway, **body: Any) -> None:
    url = f"{gateway.emulator.url}/_emulator/faults"
    (await gateway.admin.post(url, json=body)).raise_for_status()


async def test_a_rate_limited_poll_waits_for_retry_after(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_power_interval_s=1.0, upstream_retry_attempts=1) as gateway,
        gateway.session(emulator.token_a) as session,
    ):
        events = Events(session, POWER)
        await gateway.until_subscriptions(1)
        [cohort] = gateway.live.cohorts()
        assert cohort.failures == 0 and cohort.pause_s < 2
        await fault(
            gateway, operation="getCurrentlyUsedPower", status=429, retryAfter=600, times=None
        )
        await gateway.settle()
        assert cohort.failures == 1
        assert cohort.pause_s >= 600  # Retry-After, not the 1 s interval nor its doubling
        await gateway.settle()
        assert cohort.failures == 2
        assert gateway.live.subscription_count == 1  # still subscribed
        assert events.error is None
        (await gateway.admin.post(f"{emulator.url}/_emulator/reset")).raise_for_status()
        await gateway.settle()  # a good poll again
        assert cohort.failures == 0 and cohort.pause_s < 2
        await events.stop()


async def test_a_failing_view_backs_off_exponentially(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_power_interval_s=1.0, upstream_retry_attempts=1) as gateway,
        gateway.session(emulator.token_a) as session,
    ):
        events = Events(session, POWER)
        await gateway.until_subscriptions(1)
        [cohort] = gateway.live.cohorts()
        await fault(gateway, operation="getCurrentlyUsedPower", status=503, times=None)
        pauses = []
        for _ in range(3):
            await gateway.settle()
            pauses.append(cohort.pause_s)
        for pause, doubled in zip(pauses, (2.0, 4.0, 8.0), strict=True):
            assert doubled * 0.9 <= pause <= doubled * 1.1  # the interval doubled, jittered
        await events.stop()
