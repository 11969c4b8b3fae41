"""Subscribers of one token with the same document share each event's execution: the
first executes, the rest reuse its result (counted at the executor). Different documents,
variables or tokens execute their own."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationType

from gateway.plans.executor import PlannedExecutor
from tests.live.conftest import Events, LiveGateway
from tests.live.oracle import evse_states

DOCUMENT = "subscription { evseStatusChanges { status evse { stationId evseId } } }"
OTHER = "subscription { evseStatusChanges { txId evse { evseId station { name } } } }"
SUBSCRIBERS = 6


async def test_one_execution_per_event_and_document(
    gateway: LiveGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    executions = 0
    execute = PlannedExecutor._execute

    def counted(self: PlannedExecutor, serially: bool | None) -> Any:
        nonlocal executions
        executions += self.operation.operation is OperationType.SUBSCRIPTION
        return execute(self, serially)

    monkeypatch.setattr(PlannedExecutor, "_execute", counted)
    emulator = gateway.emulator
    async with gateway.session(emulator.token_a) as session:
        same = [Events(session, DOCUMENT) for _ in range(SUBSCRIBERS)]
        other = Events(session, OTHER)
        await gateway.until_subscriptions(SUBSCRIBERS + 1)
        before = evse_states(emulator, emulator.tenant_a)
        changed: set[Any] = set()
        while not changed:
            await gateway.advance(1)
            now = evse_states(emulator, emulator.tenant_a)
            changed = {k for k in now if now[k] != before[k]}
        await gateway.settle()
        for events in (*same, other):
            await events.until(len(changed))
        assert all(s.received == same[0].received for s in same)  # the same answers
        # One execution per change for the six alike, one per change for the other.
        assert executions == 2 * len(changed)
        for events in (*same, other):
            await events.stop()
