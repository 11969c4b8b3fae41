"""Helpers for the client tests: a scripted upstream behind `httpx.MockTransport`, and
real pooled clients on each transport kind (`real_client`).

Every test that talks to a real socket builds its client with `real_client`, so it runs
once on the aiohttp transport and once on plain httpx: both must behave the same.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import httpx
import pytest

from gateway.upstream import RetryPolicy, UpstreamClient, build_http_client
from gateway.upstream.transport import TRANSPORT_KINDS, TransportKind

BASE_URL = "http://127.0.0.1:9/api"

# Tiny waits keep the whole module fast while still exercising the retry path.
FAST = RetryPolicy(base_delay_s=0.001, max_delay_s=0.002, max_retry_after_s=0.05)

Reply = httpx.Response | Exception | Callable[[httpx.Request], Awaitable[httpx.Response]]


def json_reply(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


class ScriptedUpstream:
    """Answers requests from a script; the last reply repeats once the script runs out."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._replies: list[Reply] = [json_reply({})]
        self.http: httpx.AsyncClient

    def reply(self, *replies: Reply) -> ScriptedUpstream:
        self._replies = list(replies)
        return self

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return await reply(request)

    def client(self, policy: RetryPolicy = FAST, max_concurrency: int = 32) -> UpstreamClient:
        return UpstreamClient(self.http, BASE_URL, policy=policy, max_concurrency=max_concurrency)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def params(self, index: int = -1) -> list[tuple[str, str]]:
        return list(self.requests[index].url.params.multi_items())


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    scripted = ScriptedUpstream()
    async with httpx.AsyncClient(transport=httpx.MockTransport(scripted)) as http:
        scripted.http = http
        yield scripted


class RealClientFactory(Protocol):
    def __call__(
        self, *, timeout_s: float = ..., connect_timeout_s: float = ..., max_connections: int = ...
    ) -> httpx.AsyncClient: ...


@pytest.fixture(params=TRANSPORT_KINDS)
def transport_kind(request: pytest.FixtureRequest) -> TransportKind:
    kind: TransportKind = request.param
    return kind


@pytest.fixture
def real_client(transport_kind: TransportKind) -> RealClientFactory:
    """`build_http_client` on this test's transport kind, with the tests' usual bounds."""

    def build(
        *, timeout_s: float = 5.0, connect_timeout_s: float = 1.0, max_connections: int = 8
    ) -> httpx.AsyncClient:
        return build_http_client(
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_connections=max_connections,
            transport_kind=transport_kind,
        )

    return build
