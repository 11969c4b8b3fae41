"""Compression: brotli or gzip as `Accept-Encoding` prefers, only above the size threshold."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import brotli  # type: ignore[import-untyped]
import httpx
import pytest

from tests.http.conftest import Gateway
from tests.http.toy import toy_app, with_settings

MIN_BYTES = 1024
BIG = {"query": "{ items(count: 60) { id name } }"}  # about 3.5 kB of JSON
SMALL = {"query": "{ hello }"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = toy_app(with_settings(compress_min_bytes=MIN_BYTES))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def raw_post(
    http: httpx.AsyncClient, body: object, accept_encoding: str
) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, before httpx would decode it."""
    request = http.build_request(
        "POST", "/graphql", json=body, headers={"accept-encoding": accept_encoding}
    )
    response = await http.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, raw


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("*", "br"),
        ("identity", None),
        ("gzip;q=0, br;q=0", None),
        ("deflate", None),
    ],
)
async def test_big_bodies_are_compressed_as_negotiated(
    http: httpx.AsyncClient, accept_encoding: str, coding: str | None
) -> None:
    response, raw = await raw_post(http, BIG, accept_encoding)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    body = raw
    if coding == "br":
        body = brotli.decompress(raw)
    elif coding == "gzip":
        body = gzip.decompress(raw)
    assert len(body) > MIN_BYTES
    assert len(raw) == int(response.headers["content-length"])
    if coding:
        assert len(raw) < len(body) / 3
    assert body.startswith(b'{"data":{"items":[')
    assert "accept-encoding" in response.headers["vary"].lower()
    assert "accept" in {token.strip().lower() for token in response.headers["vary"].split(",")}


async def test_small_bodies_are_never_compressed(http: httpx.AsyncClient) -> None:
    response, raw = await raw_post(http, SMALL, "br, gzip")
    assert "content-encoding" not in response.headers
    assert raw == b'{"data":{"hello":"hello world"}}'
    # Vary anyway: a cache must not serve this identity body for every encoding.
    vary = [token.strip().lower() for token in response.headers["vary"].split(",")]
    assert vary.count("accept-encoding") == 1


async def test_threshold_is_the_setting() -> None:
    app = toy_app(with_settings(compress_min_bytes=100_000))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response, _ = await raw_post(client, BIG, "br, gzip")
    assert "content-encoding" not in response.headers


async def test_graphiql_page_is_compressed_too(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql", headers={"accept": "text/html", "accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert "graphiql" in response.text.lower()  # httpx decodes it


async def test_the_gateway_compresses_a_big_answer(gateway: Gateway) -> None:
    query = "{ locations(first: 100) { nodes { id name address city country lat lng } } }"
    token = gateway.emulator.token_a
    async with httpx.AsyncClient() as http:
        for coding in ("br", "gzip"):
            response = await http.post(
                gateway.url,
                json={"query": query},
                headers={"authorization": f"Bearer {token}", "accept-encoding": coding},
            )
            assert response.headers["content-encoding"] == coding
            assert int(response.headers["content-length"]) < len(response.content) / 2
            assert len(response.json()["data"]["locations"]["nodes"]) > 10
