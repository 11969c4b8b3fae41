"""A gateway served on a loopback socket, in front of the emulator fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.support import DEFAULT_EMULATOR, serving


@dataclass
class Gateway:
    url: str
    http: httpx.AsyncClient
    settings: Settings

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post(f"{self.url}/graphql", json=body, headers=headers)

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()
        return payload


def gateway_settings(upstream_url: str, **overrides: Any) -> Settings:
    base = Settings(
        upstream_url=upstream_url,
        cursor_secret="test-secret",
        graphiql=True,
        # The emulator's rows per page, so that the cost estimate is the upper bound it is
        # for an upstream whose page size is configured right.
        upstream_page_size=DEFAULT_EMULATOR.page_size,
    )
    return replace(base, **overrides)


@pytest.fixture
async def gateway(emulator: Any) -> AsyncIterator[Gateway]:
    settings = gateway_settings(emulator.url)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        yield Gateway(url, http, settings)
