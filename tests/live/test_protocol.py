"""What the WebSocket protocol itself promises: server pings, document limits before any
subscription starts, and queries over the socket with loaders of their own."""

from __future__ import annotations

import asyncio
import json
import math

from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from websockets.asyncio.client import connect

from tests.live.conftest import WAIT_S, Events, LiveGateway, live_gateway
from tests.live.oracle import error_ids
from tests.support import RunningEmulator

PROTOCOL = "graphql-transport-ws"


async def test_the_server_pings_an_idle_connection(emulator: RunningEmulator) -> None:
    async with (
        live_gateway(emulator, live_keepalive_s=0.05) as gateway,
        connect(gateway.ws_url, subprotocols=[PROTOCOL]) as socket,
    ):
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {emulator.token_a}"},
        }
        await socket.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(socket.recv(), WAIT_S)) == {
            "type": "connection_ack"
        }
        assert json.loads(await asyncio.wait_for(socket.recv(), WAIT_S)) == {"type": "ping"}


async def test_a_subscription_too_deep_is_refused_before_it_starts(gateway: LiveGateway) -> None:
    depth = gateway.app.state.graphql.settings.max_query_depth
    pairs = depth // 2 + 1  # Evse.station and Station.evses, nested past the limit
    nested = "evse { " + "station { evses { " * pairs + "evseId" + " }" * (2 * pairs + 1)
    document = "subscription { evseStatusChanges { " + nested + " } }"
    await gateway.reset_counts()
    async with gateway.session(gateway.emulator.token_a) as session:
        error = await Events(session, document).ended()
    assert isinstance(error, TransportQueryError) and error.errors
    assert error.errors[0]["extensions"]["limit"] == "depth", error.errors
    assert gateway.live.subscription_count == 0
    assert await gateway.counts() == {}


async def test_queries_over_the_socket_each_read_fresh(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    query = GraphQLRequest("{ networkSummary { evseCount faultedEvseCount } }")
    async with gateway.session(emulator.token_a) as session:
        await gateway.reset_counts()
        first = await session.execute(query)
        second = await session.execute(query)
        assert first == second
        # Two operations, two walks: no cache outlives an operation on a long connection.
        visible = len(emulator.state.network.visible_locations(emulator.tenant_a))
        pages = math.ceil(visible / emulator.state.page_size)
        assert await gateway.counts() == {"getNetworkStatus": 2 * pages}


async def test_errors_raised_reach_filters_that_differ(gateway: LiveGateway) -> None:
    """A cohort whose subscribers filter differently places each new error at its
    location (one batched station lookup) before choosing who gets it."""
    emulator = gateway.emulator
    tenant = emulator.tenant_a
    network = emulator.state.network
    everywhere = sorted(location.uid for location in network.visible_locations(tenant))
    document = (
        "subscription ($ids: [ID!]) { hardwareErrorsRaised(locationIds: $ids) { alert { id } } }"
    )
    async with gateway.session(emulator.token_a) as session:
        listed, unfiltered = Events(session, document, ids=everywhere), Events(session, document)
        await gateway.until_subscriptions(2)
        before = error_ids(emulator, tenant)
        for _ in range(200):
            await gateway.advance(1)
            if error_ids(emulator, tenant) != before:
                break
        raised = [alert for alert in error_ids(emulator, tenant) if alert not in before]
        await gateway.reset_counts()
        await gateway.settle()
        assert (await gateway.counts()).get("listStations") == 1
        for events in (listed, unfiltered):
            got = await events.until(len(raised))
            assert sorted(e["hardwareErrorsRaised"]["alert"]["id"] for e in got) == sorted(raised)
