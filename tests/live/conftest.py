"""A gateway serving WebSockets on loopback, in front of a fresh emulator, and clients.

Polls are driven, not timed: the intervals are an hour, so a cohort polls when its first
subscriber joins and then only when a test calls `live.poll_round()` (after stepping the
emulator's clock through its admin hook). Nothing waits on wall time for correctness.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import Settings
from gateway.live import LiveHub
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, serving

HOUR = 3600.0
WAIT_S = 20.0  # generous: a bound for a hung test, never a measure of speed


def live_settings(upstream_url: str, **overrides: Any) -> Settings:
    defaults: dict[str, Any] = {
        "live_status_interval_s": HOUR,
        "live_power_interval_s": HOUR,
        "live_errors_interval_s": HOUR,
        "live_max_subscriptions_per_connection": 500,
        "live_keepalive_s": 0.0,
    }
    return gateway_settings(upstream_url, **{**defaults, **overrides})


@dataclass
class LiveGateway:
    url: str  # http://127.0.0.1:port
    app: Starlette
    emulator: RunningEmulator
    admin: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    @property
    def live(self) -> LiveHub:
        hub: LiveHub = self.app.state.live
        return hub

    async def advance(self, steps: int = 1) -> dict[str, Any]:
        """Step the emulator's clock on its own server (its admin hook)."""
        response = await self.admin.post(
            f"{self.emulator.url}/_emulator/clock/advance", json={"steps": steps}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def counts(self) -> dict[str, int]:
        response = await self.admin.get(f"{self.emulator.url}/_emulator/counters")
        counts: dict[str, int] = response.json()["counts"]
        return counts

    async def reset_counts(self) -> None:
        (await self.admin.post(f"{self.emulator.url}/_emulator/reset")).raise_for_status()

    async def settle(self) -> None:
        """Wait until every cohort has finished a poll begun now."""
        await asyncio.wait_for(self.live.poll_round(), WAIT_S)

    async def until_cohorts(self, count: int) -> None:
        """Until the live layer has `count` cohorts, each done with a poll begun then."""

        async def reached() -> None:
            while self.live.cohort_count != count:  # noqa: ASYNC110 (another task's state)
                await asyncio.sleep(0.01)
            await self.settle()

        await asyncio.wait_for(reached(), WAIT_S)

    async def until_subscriptions(self, count: int) -> None:
        """Until `count` subscriptions have joined, and their cohorts have polled."""

        async def reached() -> None:
            while self.live.subscription_count != count:  # noqa: ASYNC110 (as above)
                await asyncio.sleep(0.01)
            await self.settle()

        await asyncio.wait_for(reached(), WAIT_S)

    async def until_subscriptions_joined(self, count: int) -> None:
        """Until `count` subscriptions have joined; no poll is asked for."""

        async def reached() -> None:
            while self.live.subscription_count != count:  # noqa: ASYNC110 (as above)
                await asyncio.sleep(0.01)

        await asyncio.wait_for(reached(), WAIT_S)

    @asynccontextmanager
    async def session(
        self, token: str | None, *, in_header: bool = False
    ) -> AsyncIterator[AsyncClientSession]:
        """A gql client session over graphql-transport-ws, with the token in
        `connection_init` (or in the upgrade's header)."""
        authorization = {"Authorization": f"Bearer {token}"} if token else {}
        transport = WebsocketsTransport(
            url=self.ws_url,
            init_payload={} if in_header else authorization,
            headers=authorization if in_header else None,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport, fetch_schema_from_transport=False) as session:
            yield session


@asynccontextmanager
async def live_gateway(
    emulator: RunningEmulator, *, send_buffer: int | None = None, **overrides: Any
) -> AsyncIterator[LiveGateway]:
    app = create_app(live_settings(emulator.url, **overrides))
    async with (
        serving(app, ws="websockets-sansio", send_buffer=send_buffer) as url,
        httpx.AsyncClient(timeout=30) as admin,
    ):
        yield LiveGateway(url, app, emulator, admin)


@pytest.fixture
async def gateway(emulator: RunningEmulator) -> AsyncIterator[LiveGateway]:
    async with live_gateway(emulator) as running:
        yield running


class Events:
    """A subscription read in the background, its events gathered in arrival order."""

    def __init__(self, session: AsyncClientSession, document: str, **variables: Any) -> None:
        self.received: list[dict[str, Any]] = []
        self.error: Exception | None = None
        self._arrived = asyncio.Condition()
        self._task = asyncio.create_task(self._read(session, document, variables))

    async def _read(
        self, session: AsyncClientSession, document: str, variables: dict[str, Any]
    ) -> None:
        try:
            async for result in session.subscribe(
                GraphQLRequest(document, variable_values=variables)
            ):
                async with self._arrived:
                    self.received.append(result)
                    self._arrived.notify_all()
        except Exception as error:
            self.error = error
        async with self._arrived:
            self._arrived.notify_all()

    async def until(self, count: int) -> list[dict[str, Any]]:
        """Wait until `count` events in all have arrived (or the stream ended)."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.received) >= count or self._task.done()),
                WAIT_S,
            )
        return self.received

    async def ended(self) -> Exception | None:
        await asyncio.wait_for(asyncio.shield(self._task), WAIT_S)
        return self.error

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
