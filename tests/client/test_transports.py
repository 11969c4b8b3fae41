"""Both transport kinds behave alike where the far side misbehaves, and keep what the pooled
client promises: no cookies, no redirects, no proxy from the environment, a bounded pool,
kept-alive connections, httpx's decoding. Then what only the aiohttp transport has: its
session's lifecycle, and its translation of aiohttp's exceptions into httpx's.

What happened is shown by what reached the loopback server (`raw_upstream.py`): requests,
their heads and connections, never by timing.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import traceback
import warnings
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import replace

import aiohttp
import brotli  # type: ignore[import-untyped]
import httpx
import pytest
from aiohttp.client_reqrep import ConnectionKey

from gateway.errors import (
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import UpstreamClient, build_http_client
from gateway.upstream.aiohttp_transport import AiohttpTransport, translate_error
from gateway.upstream.models import LocationInput
from gateway.upstream.transport import TRANSPORT_KINDS
from tests.client.conftest import BASE_URL, FAST, RealClientFactory, json_reply
from tests.client.raw_upstream import Answer, RawUpstream, answer, raw_upstream

TOKEN = "tenant-a-token"
ROWS = b'{"locations": [{"id": "loc-1"}, {"id": "loc-2"}]}'


@pytest.fixture
async def raw() -> AsyncIterator[RawUpstream]:
    async with raw_upstream() as upstream:
        yield upstream


@pytest.fixture
async def live(raw: RawUpstream, real_client: RealClientFactory) -> AsyncIterator[UpstreamClient]:
    async with real_client() as http:
        yield UpstreamClient(http, raw.url, policy=FAST)


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- what the far side sees --------------------------------------------------------------


async def test_a_set_cookie_is_neither_stored_nor_sent_back(
    raw: RawUpstream, real_client: RealClientFactory
) -> None:
    raw.reply(answer(body=ROWS, headers=(("Set-Cookie", "sid=tenant-a; Path=/"),)))
    # By name: aiohttp's own jar would ignore a cookie from an IP address anyway.
    url = raw.url.replace("127.0.0.1", "localhost")
    async with real_client() as http:
        client = UpstreamClient(http, url, policy=FAST)
        await client.list_locations(token=TOKEN)
        await client.list_locations(token=TOKEN)
        assert len(http.cookies) == 0
    assert len(raw.received) == 2
    assert all("cookie" not in request.headers() for request in raw.received)


async def test_a_redirect_is_not_followed(live: UpstreamClient, raw: RawUpstream) -> None:
    raw.reply(answer(302, b"", headers=(("Location", "/api/elsewhere"),)))
    with pytest.raises(UpstreamProtocolError, match="302"):
        await live.list_locations(token=TOKEN)
    assert [request.target for request in raw.received] == ["/api/locations"]


async def test_connections_are_kept_alive(live: UpstreamClient, raw: RawUpstream) -> None:
    raw.reply(answer(body=ROWS))
    for _ in range(5):
        assert len(await live.list_locations(token=TOKEN)) == 2
    assert raw.connections == 1


async def test_the_pool_bounds_the_connections_open_at_once(
    raw: RawUpstream, real_client: RealClientFactory
) -> None:
    held = asyncio.Event()
    raw.reply(answer(body=ROWS, wait=held))
    async with real_client(max_connections=2) as http:
        client = UpstreamClient(http, raw.url, policy=FAST, max_concurrency=8)
        calls = [asyncio.create_task(client.list_locations(token=TOKEN)) for _ in range(8)]
        await raw.until(lambda: len(raw.received) == 2)
        for _ in range(20):  # room for more connections to open, were they allowed
            await asyncio.sleep(0.005)
        assert len(raw.received) == 2
        held.set()
        assert all(len(rows) == 2 for rows in await asyncio.gather(*calls))
    assert len(raw.received) == 8
    assert raw.most_open == 2


async def test_proxy_settings_in_the_environment_are_ignored(
    live: UpstreamClient, raw: RawUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    raw.reply(answer(body=ROWS))
    assert len(await live.list_locations(token=TOKEN)) == 2
    assert raw.received[0].target == "/api/locations"  # origin-form: not sent to a proxy


async def test_both_transports_send_the_same_request(raw: RawUpstream) -> None:
    raw.reply(answer(body=b"{}"))  # what is sent is compared, not what is made of the answer
    for kind in TRANSPORT_KINDS:
        async with build_http_client(
            timeout_s=5.0, connect_timeout_s=1.0, max_connections=2, transport_kind=kind
        ) as http:
            client = UpstreamClient(http, raw.url, policy=FAST)
            with suppress(UpstreamError):
                await client.network_status_page(token=TOKEN, page_token="page 2/3")
            with suppress(UpstreamError):
                await client.create_location(LocationInput(name="Depot"), token=TOKEN)
    on_aiohttp, on_httpx = raw.received[:2], raw.received[2:]
    for sent_by_aiohttp, sent_by_httpx in zip(on_aiohttp, on_httpx, strict=True):
        assert sent_by_aiohttp.target == sent_by_httpx.target
        assert sent_by_aiohttp.headers() == sent_by_httpx.headers()
        assert sent_by_aiohttp.body == sent_by_httpx.body
    get, post = on_httpx
    assert "paginationToken=page+2%2F3" in get.target
    assert get.headers()["authorization"] == f"Bearer {TOKEN}"
    assert "gzip" in get.headers()["accept-encoding"]
    assert "cookie" not in get.headers() and "cookie" not in post.headers()
    assert post.headers()["content-length"] == str(len(post.body))


# --- answers no well-behaved server gives ---------------------------------------------------


async def test_a_body_cut_short_is_unavailable_and_a_get_is_retried(
    live: UpstreamClient, raw: RawUpstream
) -> None:
    raw.reply(answer(body=ROWS[:10], length=len(ROWS), close=True))
    with pytest.raises(UpstreamUnavailable, match="connection failed"):
        await live.list_locations(token=TOKEN)
    assert len(raw.received) == FAST.max_attempts


@pytest.mark.parametrize("attempts", [1, FAST.max_attempts])
async def test_a_connection_closed_before_any_answer_is_retried_per_the_policy_alone(
    raw: RawUpstream, real_client: RealClientFactory, attempts: int
) -> None:
    # aiohttp by itself sends an idempotent request again after this; the transport must
    # not, or every GET would reach the upstream twice as often as the policy says.
    raw.reply(Answer(b"", close=True))
    async with real_client() as http:
        client = UpstreamClient(http, raw.url, policy=replace(FAST, max_attempts=attempts))
        with pytest.raises(UpstreamUnavailable, match="connection failed"):
            await client.list_locations(token=TOKEN)
    assert len(raw.received) == attempts


async def test_a_write_whose_answer_is_cut_short_is_sent_once(
    live: UpstreamClient, raw: RawUpstream
) -> None:
    raw.reply(answer(201, b'{"id": "lo', length=100, close=True))
    with pytest.raises(UpstreamUnavailable, match="may or may not have been applied"):
        await live.create_location(LocationInput(name="Once"), token=TOKEN)
    assert len(raw.received) == 1


async def test_an_answer_that_is_no_http_is_unavailable_and_retried(
    live: UpstreamClient, raw: RawUpstream
) -> None:
    not_http = Answer(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", close=True)
    raw.reply(not_http, not_http, answer(body=ROWS))
    assert len(await live.list_locations(token=TOKEN)) == 2
    assert len(raw.received) == 3


async def test_a_refused_connection_is_unavailable_and_retried(
    real_client: RealClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api"
    async with real_client() as http:
        client = UpstreamClient(http, url, policy=FAST)
        with caplog.at_level(logging.WARNING, logger="gateway.upstream"):
            with pytest.raises(UpstreamUnavailable, match="connection failed"):
                await client.list_locations(token=TOKEN)
            with pytest.raises(UpstreamUnavailable, match="connection failed"):
                await client.create_location(LocationInput(name="Once"), token=TOKEN)
    failures = [r.getMessage() for r in caplog.records if r.name == "gateway.upstream"]
    assert len(failures) == FAST.max_attempts + 1  # the GET's attempts, the POST's one
    assert all("ConnectError" in line for line in failures)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_a_compressed_answer_is_decoded_and_capped_by_its_decoded_size(
    raw: RawUpstream, real_client: RealClientFactory, encoding: str
) -> None:
    def packed(body: bytes) -> bytes:
        return brotli.compress(body) if encoding == "br" else gzip.compress(body)

    raw.reply(
        answer(body=packed(ROWS), headers=(("Content-Encoding", encoding),)),
        answer(body=packed(b" " * 200_000), headers=(("Content-Encoding", encoding),)),
    )
    async with real_client() as http:
        client = UpstreamClient(http, raw.url, policy=FAST, max_body_bytes=100_000)
        assert len(await client.list_locations(token=TOKEN)) == 2
        with pytest.raises(UpstreamProtocolError, match="100000 bytes"):
            await client.list_locations(token=TOKEN)
    assert len(raw.received) == 2
    assert encoding in raw.received[0].headers()["accept-encoding"]


async def test_no_failure_shows_the_url_or_the_token(
    real_client: RealClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    secret_page = "page-token-of-tenant-a"
    url = f"http://127.0.0.1:{closed_port()}/api"
    async with real_client() as http:
        client = UpstreamClient(http, url, policy=FAST)
        with (
            caplog.at_level(logging.DEBUG),
            pytest.raises(UpstreamUnavailable) as caught,
        ):
            await client.network_status_page(token=TOKEN, page_token=secret_page)
    shown = "".join(traceback.format_exception(caught.value))
    # httpx's own INFO line ("HTTP Request: GET <url>") is the caller's logging to tune.
    shown += "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert secret_page not in shown and TOKEN not in shown and "/api/" not in shown


# --- the aiohttp transport's own ------------------------------------------------------------


async def test_the_aiohttp_session_lives_and_closes_with_the_client(raw: RawUpstream) -> None:
    http = build_http_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=2)
    transport = http._transport
    assert isinstance(transport, AiohttpTransport)
    assert transport.session is None  # made inside the loop, on entering
    async with http:
        session = transport.session
        assert session is not None and not session.closed
        assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
        await UpstreamClient(http, raw.url, policy=FAST).list_locations(token=TOKEN)
    assert session.closed and transport.session is None
    await raw.until(lambda: raw.open_now == 0)  # its pooled connection is closed too
    assert raw.connections == 1


def test_building_the_client_outside_a_loop_makes_no_session() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        http = build_http_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=2)
    assert isinstance(http._transport, AiohttpTransport)
    assert http._transport.session is None


def test_an_unknown_transport_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="transport kind"):
        build_http_client(
            timeout_s=5.0,
            connect_timeout_s=1.0,
            max_connections=2,
            transport_kind="curl",  # type: ignore[arg-type]
        )


def _connector_error() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("secret-host.example", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


SECRET_URL = "http://secret-host.example/api/locations?token=secret"

# aiohttp's failure, the httpx exception httpcore raises for the same event, the gateway
# error the Sender makes of it, and whether a GET meeting it is tried again.
TRANSLATIONS = [
    (_connector_error(), httpx.ConnectError, UpstreamUnavailable, True),
    (aiohttp.ConnectionTimeoutError(SECRET_URL), httpx.ConnectTimeout, UpstreamTimeout, True),
    (aiohttp.SocketTimeoutError(SECRET_URL), httpx.ReadTimeout, UpstreamTimeout, False),
    (TimeoutError(), httpx.ReadTimeout, UpstreamTimeout, False),
    (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, UpstreamUnavailable, True),
    (aiohttp.ClientPayloadError(SECRET_URL), httpx.RemoteProtocolError, UpstreamUnavailable, True),
    (aiohttp.ClientOSError(104, "Connection reset"), httpx.ReadError, UpstreamUnavailable, True),
    (aiohttp.InvalidUrlClientError(SECRET_URL), httpx.InvalidURL, UpstreamRejected, False),
    (
        aiohttp.NonHttpUrlClientError(SECRET_URL),
        httpx.UnsupportedProtocol, UpstreamUnavailable, False,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("failure", "as_httpx", "as_gateway", "retried"), TRANSLATIONS)
async def test_every_aiohttp_failure_is_the_gateway_error_httpx_would_give(
    failure: Exception,
    as_httpx: type[Exception],
    as_gateway: type[UpstreamError],
    retried: bool,
) -> None:
    translated = translate_error(failure)
    assert type(translated) is as_httpx
    assert "secret" not in str(translated)

    raised: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        raised.append(request)
        raise translate_error(failure)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = UpstreamClient(http, BASE_URL, policy=FAST)
        with pytest.raises(as_gateway) as caught:
            await client.list_locations(token=TOKEN)
        assert "deadline" not in caught.value.message  # aiohttp's timeout is not the caller's
        assert len(raised) == (FAST.max_attempts if retried else 1)
        with pytest.raises(as_gateway):
            await client.create_location(LocationInput(name="Once"), token=TOKEN)
        assert len(raised) == (FAST.max_attempts if retried else 1) + 1  # a write goes once


def test_a_failure_that_is_not_aiohttps_is_left_alone() -> None:
    bug = KeyError("a bug")
    assert translate_error(bug) is bug


async def test_a_given_transport_replaces_the_kind() -> None:
    """`transport=` replaces the kind: tests keep scripting answers on either."""
    transport = httpx.MockTransport(lambda request: json_reply({"locations": []}))
    async with build_http_client(
        timeout_s=5.0, connect_timeout_s=1.0, max_connections=2, transport=transport
    ) as http:
        assert await UpstreamClient(http, BASE_URL, policy=FAST).list_locations(token=TOKEN) == ()
