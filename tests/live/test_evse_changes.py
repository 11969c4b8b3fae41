"""`evseStatusChanges` over graphql-transport-ws: initial state, changes after the clock
steps, one event per changed EVSE, none when nothing changed, and leaving."""

from __future__ import annotations

from typing import Any

from tests.live.conftest import Events, LiveGateway
from tests.live.oracle import evse_states, wire_name

CHANGES = """
subscription ($ids: [ID!], $initial: Boolean!) {
  evseStatusChanges(locationIds: $ids, includeInitial: $initial) {
    locationId initial previousStatus status previousTxStatus txStatus previousTxId txId seenAt
    evse { stationId evseId status station { name } }
  }
}
"""


def key(event: dict[str, Any]) -> tuple[str, str]:
    evse = event["evseStatusChanges"]["evse"]
    return (evse["stationId"], evse["evseId"])


async def step_until_changed(gateway: LiveGateway, tenant: str) -> set[tuple[str, str]]:
    """Step the clock until some EVSE `tenant` sees has changed; the changed keys."""
    before = evse_states(gateway.emulator, tenant)
    for _ in range(50):
        await gateway.advance(1)
        after = evse_states(gateway.emulator, tenant)
        changed = {k for k, state in after.items() if k in before and before[k] != state}
        if changed:
            return changed
    raise AssertionError("fifty steps changed no EVSE of the tenant")


async def test_initial_state_then_one_event_per_changed_evse(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, CHANGES, ids=None, initial=True)
        states = evse_states(emulator, emulator.tenant_a)
        initial = await events.until(len(states))
        assert events.error is None, events.error
        assert {key(e) for e in initial} == set(states)
        assert all(e["evseStatusChanges"]["initial"] for e in initial)
        assert all(e["evseStatusChanges"]["evse"]["station"]["name"] for e in initial)

        changed = await step_until_changed(gateway, emulator.tenant_a)
        await gateway.settle()
        received = await events.until(len(states) + len(changed))
        fresh = received[len(states) :]
        assert sorted(key(e) for e in fresh) == sorted(changed)  # one per changed EVSE
        after = evse_states(emulator, emulator.tenant_a)
        for event in fresh:
            change = event["evseStatusChanges"]
            assert not change["initial"]
            status, tx_status, tx_id = after[key(event)]
            assert wire_name(change["status"]) == status
            assert wire_name(change["txStatus"]) == tx_status
            assert change["txId"] == tx_id
            assert change["evse"]["status"] == change["status"]

        # Nothing changed: a poll round pushes nothing.
        await gateway.settle()
        await gateway.settle()
        assert len(events.received) == len(states) + len(changed)
        await events.stop()


async def test_without_initial_state_nothing_until_a_change(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a, in_header=True) as session:
        events = Events(session, CHANGES, ids=None, initial=False)
        await gateway.until_cohorts(1)
        await gateway.settle()
        assert events.received == []
        changed = await step_until_changed(gateway, emulator.tenant_a)
        await gateway.settle()
        received = await events.until(len(changed))
        assert {key(e) for e in received} == changed
        await events.stop()


async def test_leaving_stops_the_poll(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, CHANGES, ids=None, initial=False)
        await gateway.until_cohorts(1)
        await events.stop()  # the client completes the subscription
        await gateway.until_cohorts(0)
        assert gateway.live.subscription_count == 0
    await gateway.reset_counts()
    await gateway.advance(3)
    await gateway.settle()  # no cohort: nothing polls
    assert await gateway.counts() == {}


async def test_an_events_station_comes_from_the_poll_not_another_call(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    await gateway.reset_counts()
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, CHANGES, ids=None, initial=True)
        states = evse_states(emulator, emulator.tenant_a)
        initial = await events.until(len(states))
        assert all(e["evseStatusChanges"]["evse"]["station"]["name"] for e in initial)
        # Hundreds of events, each with its station: the poll's walk and nothing else.
        assert set(await gateway.counts()) == {"getNetworkStatus"}
        await events.stop()


async def test_statuses_filter_initial_states_and_changes(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    document = (
        "subscription { evseStatusChanges(statuses: [FAULTED], includeInitial: true) "
        "{ status initial evse { stationId evseId } } }"
    )
    states = evse_states(emulator, emulator.tenant_a)
    faulted = {k for k, (status, _, _) in states.items() if status == "Faulted"}
    assert faulted and len(faulted) < len(states)
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, document)
        initial = await events.until(len(faulted))
        assert {key(e) for e in initial} == faulted
        await gateway.settle()
        assert len(events.received) == len(faulted)
        await events.stop()
