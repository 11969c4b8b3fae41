"""A subscriber that does not read holds at most one pending event per EVSE, and when it
reads gets each EVSE's latest state: its memory is bounded by the network, not by time."""

from __future__ import annotations

from tests.live.conftest import LiveGateway, live_gateway
from tests.live.oracle import evse_states
from tests.support import RunningEmulator


async def test_a_stalled_subscriber_keeps_one_latest_event_per_evse(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    hub = gateway.live
    subscriber = hub.evse_changes(emulator.token_a, None)
    await gateway.until_subscriptions(1)
    at_start = evse_states(emulator, emulator.tenant_a)
    offered = 0
    for _ in range(40):  # many rounds, the subscriber never reads
        await gateway.advance(3)
        await gateway.settle()
        offered = hub.stats.events
        assert len(subscriber.queue) <= len(at_start)
    now = evse_states(emulator, emulator.tenant_a)
    pending = [subscriber.queue.take() for _ in range(len(subscriber.queue))]
    assert offered > len(pending)  # events were coalesced, not queued one by one
    keys = [change.key for change in pending]
    assert len(keys) == len(set(keys))  # one per EVSE
    # Exactly the EVSEs whose state differs from when it subscribed, at their latest state.
    assert set(keys) == {k for k in now if k in at_start and now[k] != at_start[k]}
    for change in pending:
        row = change.after.row
        assert (row.status, row.tx_status, row.tx_id) == now[change.key]  # StrEnum == wire
        assert change.before is not None
        assert change.before.row.status == at_start[change.key][0]
    subscriber.close()
    await gateway.until_cohorts(0)


async def test_past_its_bound_the_oldest_pending_event_goes(emulator: RunningEmulator) -> None:
    async with live_gateway(emulator, live_max_pending_events=2) as gateway:
        subscriber = gateway.live.evse_changes(emulator.token_a, None)
        await gateway.until_subscriptions(1)
        for _ in range(30):
            await gateway.advance(3)
            await gateway.settle()
            assert len(subscriber.queue) <= 2
        assert subscriber.queue.dropped > 0
        subscriber.close()
