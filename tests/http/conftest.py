"""Fixtures for the HTTP layer: the toy endpoint in-process, the real gateway on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from gateway.config import Settings
from tests.http.toy import toy_app
from tests.support import RunningEmulator, serving

GRAPHIQL_ORIGIN = "http://localhost:5173"
LOCAL_ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The toy endpoint, in-process."""
    transport = httpx.ASGITransport(app=toy_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass(frozen=True)
class Gateway:
    url: str  # of the GraphQL endpoint
    emulator: RunningEmulator

    def upstream_calls(self) -> int:
        return sum(self.emulator.state.counters.values())


@pytest.fixture
async def gateway(emulator: RunningEmulator) -> AsyncIterator[Gateway]:
    """`create_app` as the demo runs it, in front of the emulator, on a loopback socket."""
    # Imported here, so that the toy tests of the HTTP layer run while the app is broken.
    from gateway.app import create_app

    settings = Settings(
        upstream_url=emulator.url,
        cors_origins=(GRAPHIQL_ORIGIN, LOCAL_ORIGIN),
        cursor_secret="test-secret",
    )
    async with serving(create_app(settings)) as base:
        yield Gateway(f"{base}/graphql", emulator)
