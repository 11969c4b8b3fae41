"""Joining a cohort at awkward moments: while it backs off (no poll is asked for, the last
good poll serves whom it covers, the rest wait for the next good one), and with
`includeInitial` while the union of filters grows (the newcomer's initial states only, the
others' changes only)."""

from __future__ import annotations

from typing import Any

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.live.oracle import EvseKey, evse_states, location_of_evses, wire_name
from tests.support import RunningEmulator

DOCUMENT = (
    "subscription ($ids: [ID!]) { evseStatusChanges(locationIds: $ids, includeInitial: true)"
    " { locationId initial status txStatus txId evse { stationId evseId } } }"
)
State = tuple[str | None, str | None, str | None]


def two_locations(gateway: LiveGateway) -> tuple[str, str]:
    emulator = gateway.emulator
    first, second = sorted(set(location_of_evses(emulator, emulator.tenant_a).values()))[:2]
    return first, second


def states_at(gateway: LiveGateway, uid: str) -> dict[EvseKey, State]:
    emulator = gateway.emulator
    located = location_of_evses(emulator, emulator.tenant_a)
    states = evse_states(emulator, emulator.tenant_a)
    return {k: state for k, state in states.items() if located[k] == uid}


def as_states(received: list[dict[str, Any]]) -> dict[EvseKey, State]:
    out: dict[EvseKey, State] = {}
    for event in received:
        change = event["evseStatusChanges"]
        key = (change["evse"]["stationId"], change["evse"]["evseId"])
        out[key] = (wire_name(change["status"]), wire_name(change["txStatus"]), change["txId"])
    return out


async def test_joining_while_the_cohort_backs_off(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, upstream_retry_attempts=1) as gateway,
        gateway.session(emulator.token_a) as session,
    ):
        first, second = two_locations(gateway)
        at_first = states_at(gateway, first)
        one = Events(session, DOCUMENT, ids=[first])
        await gateway.until_subscriptions(1)
        [cohort] = gateway.live.cohorts()
        url = f"{emulator.url}/_emulator/faults"
        fault = {"operation": "getNetworkStatus", "status": 503, "times": None}
        (await gateway.admin.post(url, json=fault)).raise_for_status()
        await gateway.settle()
        assert cohort.failures == 1
        # Covered by the last good poll: its initial states from it, and no poll asked.
        covered = Events(session, DOCUMENT, ids=[first])
        assert as_states(await covered.until(len(at_first))) == at_first
        # Not covered: it waits for the pause to end; joining does not cut it short.
        uncovered = Events(session, DOCUMENT, ids=[second])
        await gateway.until_subscriptions_joined(3)
        assert not cohort.poll_asked and cohort.failures == 1
        assert uncovered.received == []
        (await gateway.admin.post(f"{emulator.url}/_emulator/reset")).raise_for_status()
        await gateway.settle()  # the next poll (here driven), good again
        at_second = states_at(gateway, second)
        assert as_states(await uncovered.until(len(at_second))) == at_second
        assert len(one.received) == len(at_first)  # nothing changed: only its initial states
        for events in (one, covered, uncovered):
            await events.stop()


async def test_include_initial_when_the_union_of_filters_grows(gateway: LiveGateway) -> None:
    first, second = two_locations(gateway)
    async with gateway.session(gateway.emulator.token_a) as session:
        one = Events(session, DOCUMENT, ids=[first])
        initial_one = len(await one.until(len(states_at(gateway, first))))
        before = states_at(gateway, first)
        for _ in range(200):  # change the first location, without a poll
            await gateway.advance(1)
            if states_at(gateway, first) != before:
                break
        changed = {k for k, state in states_at(gateway, first).items() if before[k] != state}
        # The newcomer's locations are not in the last poll: its join polls the union.
        two = Events(session, DOCUMENT, ids=[second])
        at_second = states_at(gateway, second)
        got_two = await two.until(len(at_second))
        assert as_states(got_two) == at_second
        assert all(e["evseStatusChanges"]["initial"] for e in got_two)
        got_one = (await one.until(initial_one + len(changed)))[initial_one:]
        assert {e["evseStatusChanges"]["locationId"] for e in got_one} == {first}
        assert not any(e["evseStatusChanges"]["initial"] for e in got_one)
        assert as_states(got_one) == {k: states_at(gateway, first)[k] for k in changed}
        await gateway.settle()
        assert len(two.received) == len(at_second)  # no first sighting became a change
        await one.stop()
        await two.stop()
