"""The other kinds of event, each checked against the emulator's own account: power per
location, the summary's counts, hardware errors raised, and location filters (a cohort
polls the union of its subscribers' filters, each subscriber sees its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tests.live.conftest import Events, LiveGateway
from tests.live.oracle import error_ids, evse_states, location_of_evses, power

T = TypeVar("T")


async def step_until(gateway: LiveGateway, read: Callable[[], T]) -> tuple[T, T]:
    """Step the clock until `read()` differs from what it was; (before, after)."""
    before = read()
    for _ in range(200):
        await gateway.advance(1)
        after = read()
        if after != before:
            return before, after
    raise AssertionError("two hundred steps changed nothing")


async def test_location_power_pushes_each_changed_location(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    document = (
        "subscription { locationPower { locationId previousPowerKw currentPowerKw "
        "previousSessionCount sessionCount location { name } } }"
    )
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, document)
        await gateway.until_subscriptions(1)
        before, after = await step_until(gateway, lambda: power(emulator, emulator.tenant_a))
        changed = {uid for uid in after if after[uid] != before.get(uid)}
        await gateway.settle()
        received = [e["locationPower"] for e in await events.until(len(changed))]
        assert {e["locationId"] for e in received} == changed
        for event in received:
            kw, sessions = after[event["locationId"]]
            assert (event["currentPowerKw"], event["sessionCount"]) == (kw, sessions)
            assert event["location"]["name"]
        await events.stop()


async def test_network_summary_first_as_it_is_then_on_a_change(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    document = (
        "subscription { networkSummaryChanges { evseCount faultedEvseCount activeSessions } }"
    )

    def counts() -> tuple[int, int, int]:
        states = evse_states(emulator, emulator.tenant_a).values()
        return (
            len(states),
            sum(1 for status, _, _ in states if status == "Faulted"),
            sum(1 for _, tx_status, tx_id in states if tx_id and tx_status not in (None, "Ended")),
        )

    async with gateway.session(emulator.token_a) as session:
        events = Events(session, document)
        [first] = await events.until(1)

        def as_tuple(event: dict[str, Any]) -> tuple[int, int, int]:
            summary = event["networkSummaryChanges"]
            return (summary["evseCount"], summary["faultedEvseCount"], summary["activeSessions"])

        assert as_tuple(first) == counts()
        _, after = await step_until(gateway, counts)
        await gateway.settle()
        _, second = await events.until(2)
        assert as_tuple(second) == after
        await gateway.settle()
        assert len(events.received) == 2  # no change, no event
        await events.stop()


async def test_hardware_errors_raised(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    document = "subscription { hardwareErrorsRaised { stationId alert { id } } }"
    async with gateway.session(emulator.token_a) as session:
        events = Events(session, document)
        await gateway.until_subscriptions(1)
        before, after = await step_until(gateway, lambda: error_ids(emulator, emulator.tenant_a))
        raised = [alert for alert in after if alert not in before]
        await gateway.settle()
        received = await events.until(len(raised))
        assert sorted(e["hardwareErrorsRaised"]["alert"]["id"] for e in received) == sorted(raised)
        await events.stop()


async def test_location_filters_share_one_walk_of_their_union(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    located = location_of_evses(emulator, emulator.tenant_a)
    first, second = sorted(set(located.values()))[:2]
    document = (
        "subscription ($ids: [ID!]) { evseStatusChanges(locationIds: $ids, includeInitial: true)"
        " { locationId evse { stationId evseId } } }"
    )
    async with gateway.session(emulator.token_a) as session:
        one = Events(session, document, ids=[first])
        two = Events(session, document, ids=[second])
        expected_one = [k for k, uid in located.items() if uid == first]
        expected_two = [k for k, uid in located.items() if uid == second]
        got_one = await one.until(len(expected_one))
        got_two = await two.until(len(expected_two))
        assert {e["evseStatusChanges"]["locationId"] for e in got_one} == {first}
        assert {e["evseStatusChanges"]["locationId"] for e in got_two} == {second}
        assert gateway.live.cohort_count == 1
        await gateway.reset_counts()
        await gateway.advance(1)
        await gateway.settle()
        assert await gateway.counts() == {"getNetworkStatus": 1}  # both locations, one page
        paths = [path for _, _, path in emulator.state.requests]
        assert first in paths[0] and second in paths[0]
        await one.stop()
        await two.stop()
