"""Credentials of a WebSocket: none closes it before any upstream call; a token the
upstream stops accepting ends its subscriptions with UNAUTHENTICATED and stops the poll."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import pytest
from gql.transport.exceptions import TransportQueryError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import Events, LiveGateway, live_gateway
from tests.support import RunningEmulator

PROTOCOL = "graphql-transport-ws"
CHANGES = "subscription { evseStatusChanges { status } }"
POWER = "subscription { locationPower { locationId } }"


async def test_no_token_is_closed_with_4403_before_any_upstream_call(
    gateway: LiveGateway,
) -> None:
    await gateway.reset_counts()
    async with connect(gateway.ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send('{"type": "connection_init", "payload": {}}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert await gateway.counts() == {}
    assert gateway.live.cohort_count == 0


async def test_a_token_in_the_url_is_not_a_credential(gateway: LiveGateway) -> None:
    url = f"{gateway.ws_url}?access_token={gateway.emulator.token_a}"
    async with connect(url, subprotocols=[PROTOCOL]) as socket:
        await socket.send('{"type": "connection_init"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_subscribing_before_connection_init_is_refused(gateway: LiveGateway) -> None:
    async with connect(gateway.ws_url, subprotocols=[PROTOCOL]) as socket:
        subscribe = {"type": "subscribe", "id": "1", "payload": {"query": CHANGES}}
        await socket.send(json.dumps(subscribe))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert await gateway.counts() == {}


async def test_a_silent_connection_is_closed_after_the_init_timeout(
    emulator: RunningEmulator,
) -> None:
    async with (
        live_gateway(emulator, live_connection_init_timeout_s=0.2) as gateway,
        connect(gateway.ws_url, subprotocols=[PROTOCOL]) as socket,
    ):
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_a_revoked_token_ends_its_subscriptions_and_their_polls(
    gateway: LiveGateway,
) -> None:
    emulator = gateway.emulator
    async with AsyncExitStack() as stack:
        revoked = await stack.enter_async_context(gateway.session(emulator.token_a))
        other = await stack.enter_async_context(gateway.session(emulator.token_b))
        a_changes, a_power = Events(revoked, CHANGES), Events(revoked, POWER)
        b_changes = Events(other, CHANGES)
        await gateway.until_subscriptions(3)
        response = await gateway.admin.post(
            f"{emulator.url}/_emulator/tokens/revoke", json={"token": emulator.token_a}
        )
        response.raise_for_status()
        await gateway.settle()
        for events in (a_changes, a_power):
            error = await events.ended()
            assert isinstance(error, TransportQueryError), error
            assert error.errors is not None
            [reported] = error.errors
            assert reported["extensions"]["code"] == "UNAUTHENTICATED"
        assert gateway.live.cohort_count == 1  # tenant B's status poll goes on
        await gateway.reset_counts()
        await gateway.advance(2)
        await gateway.settle()
        counts = await gateway.counts()
        assert set(counts) == {"getNetworkStatus"}  # B's walk only; A is polled no more
        log = emulator.state.requests
        assert all(op == "getNetworkStatus" for op, _, _ in log)
        await b_changes.stop()
