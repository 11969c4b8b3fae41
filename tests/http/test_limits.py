"""Request bodies above `Settings.max_body_bytes` get 413, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.config import Settings
from tests.http.conftest import Gateway
from tests.http.toy import toy_app, with_settings

LIMIT = 1000


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = toy_app(with_settings(max_body_bytes=LIMIT))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


def body(size: int) -> bytes:
    head = b'{"query": "{ hello }", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def test_a_body_at_the_limit_is_served(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", content=body(LIMIT), headers={"content-type": "application/json"}
    )
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_a_declared_length_above_the_limit_is_413(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", content=body(LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["errors"][0]["message"]


async def test_a_chunked_body_above_the_limit_is_413(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        data = body(3 * LIMIT)
        for start in range(0, len(data), 256):
            yield data[start : start + 256]

    response = await http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_the_gateway_bounds_request_bodies(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            gateway.url,
            content=body(Settings().max_body_bytes + 1),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
