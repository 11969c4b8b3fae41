"""`hardwareErrorsRaised` reads on past the newest page until it reaches errors it has
seen: a burst of more new errors than a page between two polls loses none."""

from __future__ import annotations

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.live.oracle import error_ids
from tests.support import RunningEmulator

DOCUMENT = "subscription { hardwareErrorsRaised { alert { id } } }"
ERRORS = "getNetworkHardwareErrors"


async def burst(gateway: LiveGateway, more_than: int) -> list[str]:
    """Step the clock (no poll in between) until over `more_than` new errors are listed."""
    emulator = gateway.emulator
    before = set(error_ids(emulator, emulator.tenant_a))
    for _ in range(500):
        await gateway.advance(10)
        raised = [a for a in error_ids(emulator, emulator.tenant_a) if a not in before]
        if len(raised) > more_than:
            return raised
    raise AssertionError("five thousand steps raised too few errors")


async def test_a_burst_of_errors_over_several_pages_is_delivered_whole(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    page = emulator.state.page_size
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, DOCUMENT)
        await gateway.until_subscriptions(1)
        raised = await burst(gateway, 2 * page)
        await gateway.reset_counts()
        await gateway.settle()
        received = await events.until(len(raised))
        assert sorted(e["hardwareErrorsRaised"]["alert"]["id"] for e in received) == sorted(raised)
        # The walk stops at the page holding the first error seen before, not later.
        assert (await gateway.counts())[ERRORS] == len(raised) // page + 1
        await events.stop()


async def test_the_walk_is_bounded_by_its_page_limit(emulator: RunningEmulator) -> None:
    async with live_gateway(emulator, live_max_error_pages=2) as gateway:
        subscriber = gateway.live.errors_raised(emulator.token_a, None)
        await gateway.until_subscriptions(1)
        await burst(gateway, 3 * emulator.state.page_size)
        await gateway.reset_counts()
        await gateway.settle()
        assert (await gateway.counts())[ERRORS] == 2
        assert len(subscriber.queue) == 2 * emulator.state.page_size  # the newest two pages
        subscriber.close()
