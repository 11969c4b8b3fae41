"""Two tenants never see each other's EVSEs, locations or errors; the live limits hold."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.live.oracle import error_ids, evse_states, visible_locations
from tests.support import RunningEmulator

INITIAL = (
    "subscription { evseStatusChanges(includeInitial: true) "
    "{ locationId evse { stationId evseId station { stationId } } } }"
)
POWER = "subscription { locationPower { locationId } }"


async def test_tenants_see_only_their_own_network(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    seen: dict[str, set[tuple[str, str]]] = {}
    async with AsyncExitStack() as stack:
        for tenant, token in (
            (emulator.tenant_a, emulator.token_a),
            (emulator.tenant_b, emulator.token_b),
        ):
            session = await stack.enter_async_context(gateway.session(token))
            states = evse_states(emulator, tenant)
            events = await Events(session, INITIAL).until(len(states))
            seen[tenant] = {
                (
                    e["evseStatusChanges"]["evse"]["stationId"],
                    e["evseStatusChanges"]["evse"]["evseId"],
                )
                for e in events
            }
            assert seen[tenant] == set(states)
            locations = {e["evseStatusChanges"]["locationId"] for e in events}
            assert locations <= visible_locations(emulator, tenant)
    only_a = set(evse_states(emulator, emulator.tenant_a)) - set(
        evse_states(emulator, emulator.tenant_b)
    )
    assert only_a, "the seed gives tenant A EVSEs that B may not see"
    assert not only_a & seen[emulator.tenant_b]


async def test_subscriptions_per_credential_are_bounded(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_max_subscriptions_per_credential=2) as gateway,
        gateway.session(emulator.token_a) as session,
    ):
        first, second = Events(session, POWER), Events(session, POWER)
        await gateway.until_subscriptions(2)
        third = Events(session, POWER)
        error = await third.ended()
        assert isinstance(error, TransportQueryError) and error.errors
        assert error.errors[0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        async with gateway.session(emulator.token_b) as other:  # another credential may
            await Events(other, POWER).until(0)
            await gateway.until_subscriptions(3)
        await first.stop()
        await second.stop()


async def test_subscriptions_per_connection_are_bounded(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_max_subscriptions_per_connection=1) as gateway,
        gateway.session(emulator.token_a) as session,
    ):
        first = Events(session, POWER)
        await gateway.until_subscriptions(1)
        error = await Events(session, POWER).ended()
        assert isinstance(error, TransportQueryError)
        assert "limit" in str(error).lower()
        await first.stop()


async def test_live_connections_are_bounded(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_max_connections=1) as gateway,
        gateway.session(emulator.token_a),
    ):
        with pytest.raises(TransportConnectionFailed):
            async with gateway.session(emulator.token_a):
                pass


async def test_tenants_see_only_their_own_errors_raised(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    document = "subscription { hardwareErrorsRaised { alert { id } } }"
    tenants = ((emulator.tenant_a, emulator.token_a), (emulator.tenant_b, emulator.token_b))
    async with AsyncExitStack() as stack:
        streams = {}
        for tenant, token in tenants:
            session = await stack.enter_async_context(gateway.session(token))
            streams[tenant] = Events(session, document)
        await gateway.until_subscriptions(2)
        before = {tenant: set(error_ids(emulator, tenant)) for tenant, _ in tenants}
        a, b = emulator.tenant_a, emulator.tenant_b
        raised: dict[str, set[str]] = {}
        for _ in range(300):  # until tenant A has a new error that B may not see
            await gateway.advance(1)
            raised = {t: set(error_ids(emulator, t)) - before[t] for t, _ in tenants}
            if raised[a] - raised[b]:
                break
        hidden_from_b = raised[a] - raised[b]
        assert hidden_from_b, "three hundred steps raised no error that only A may see"
        await gateway.settle()
        got_b = await streams[b].until(len(raised[b]))
        for tenant, _ in tenants:
            got = await streams[tenant].until(len(raised[tenant]))
            ids = {e["hardwareErrorsRaised"]["alert"]["id"] for e in got}
            assert ids == raised[tenant]  # the newest page holds them: few per poll here
        assert not hidden_from_b & {e["hardwareErrorsRaised"]["alert"]["id"] for e in got_b}
