"""One upstream poll per credential and view, however many subscribe: counted at the
emulator. Each round of polls is driven (`settle`), so the counts are exact."""

from __future__ import annotations

import math
from contextlib import AsyncExitStack

from tests.live.conftest import Events, LiveGateway
from tests.support import RunningEmulator

DOCUMENTS = (
    "subscription { evseStatusChanges { status evse { stationId evseId } } }",
    "subscription { locationPower { locationId currentPowerKw sessionCount } }",
    "subscription { networkSummaryChanges { evseCount faultedEvseCount activeSessions } }",
    "subscription { hardwareErrorsRaised { stationId alert { id } } }",
)
STATUS, POWER, ERRORS = "getNetworkStatus", "getCurrentlyUsedPower", "getNetworkHardwareErrors"


def status_pages(emulator: RunningEmulator, tenant: str) -> int:
    """Pages of one walk of the tenant's whole network status."""
    locations = len(emulator.state.network.visible_locations(tenant))
    return max(1, math.ceil(locations / emulator.state.page_size))


async def subscribe_all(
    gateway: LiveGateway, stack: AsyncExitStack, token: str, count: int
) -> list[Events]:
    session = await stack.enter_async_context(gateway.session(token))
    return [Events(session, DOCUMENTS[i % len(DOCUMENTS)]) for i in range(count)]


async def test_200_subscriptions_of_one_credential_cost_one_poll_per_view(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    async with AsyncExitStack() as stack:
        subscriptions = await subscribe_all(gateway, stack, emulator.token_a, 200)
        await gateway.until_subscriptions(200)
        assert gateway.live.cohort_count == 3  # status, power, errors
        await gateway.settle()
        for rounds in (1, 2, 3):
            await gateway.reset_counts()
            await gateway.advance(2)
            await gateway.settle()
            assert await gateway.counts() == {
                STATUS: status_pages(emulator, emulator.tenant_a),
                POWER: 1,
                ERRORS: 1,
            }, f"round {rounds}"
        for subscription in subscriptions:
            await subscription.stop()
    await gateway.until_cohorts(0)
    await gateway.reset_counts()
    await gateway.advance(2)
    await gateway.settle()
    assert await gateway.counts() == {}  # all left: nothing polls any more


async def test_two_credentials_never_share_a_poll(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    async with AsyncExitStack() as stack:
        await subscribe_all(gateway, stack, emulator.token_a, 100)
        await subscribe_all(gateway, stack, emulator.token_b, 100)
        await gateway.until_subscriptions(200)
        assert gateway.live.cohort_count == 6
        await gateway.settle()
        await gateway.reset_counts()
        await gateway.advance(2)
        await gateway.settle()
        pages = status_pages(emulator, emulator.tenant_a) + status_pages(
            emulator, emulator.tenant_b
        )
        assert await gateway.counts() == {STATUS: pages, POWER: 2, ERRORS: 2}
