"""Bounded upstream answers: a body over `max_body_bytes` is refused while it streams, with
the connection dropped, memory flat and the far side's generation stopped; and a request
the gateway cannot even form is refused before any I/O.

Sizes are proven by counting bytes (the emulator's `BodyMeter`, the process's peak RSS)
and requests, never by timing.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.emulator import Fault
from gateway.errors import (
    NotFound,
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import RetryPolicy, UpstreamClient
from tests.client.conftest import BASE_URL, FAST, RealClientFactory, ScriptedUpstream, json_reply

MIB = 1024 * 1024
TOKEN = "tenant-a-token"


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: Any) -> Iterator[None]:
    emulator.state.reset()
    yield
    emulator.state.reset()


@pytest.fixture
async def one_connection(real_client: RealClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A pool of one: a connection put back half-read would be the next call's."""
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=1) as http:
        yield http


def finished_meter(emulator: Any) -> Any:
    [meter] = emulator.state.faults.huge_bodies
    return meter


# --- against the emulator over loopback HTTP ------------------------------------------------


@pytest.mark.parametrize("chunked", [True, False], ids=["counted", "declared"])
async def test_a_body_over_the_limit_is_refused_and_not_retried(
    one_connection: httpx.AsyncClient, emulator: Any, chunked: bool
) -> None:
    size = 300 * MIB
    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=size, chunked=chunked))
    client = UpstreamClient(one_connection, emulator.url, policy=FAST, max_body_bytes=MIB)
    with pytest.raises(UpstreamProtocolError) as caught:
        await client.list_locations(token=emulator.token_a)
    error = caught.value
    assert error.operation == "getLocations"
    assert "getLocations" in error.message and str(MIB) in error.message
    assert "huge-" not in error.message and emulator.url not in error.message
    assert emulator.state.counters["getLocations"] == 1  # a big body is big again: no retry
    meter = finished_meter(emulator)
    await asyncio.to_thread(meter.finished.wait)
    # The client stopped reading, so the emulator stopped generating: what it made is what
    # socket buffers held, not the 300 MiB it would have sent to a reader.
    assert meter.sent_bytes < size // 20


@pytest.mark.parametrize("chunked", [True, False], ids=["counted", "declared"])
async def test_the_connection_is_not_reused_half_read(
    one_connection: httpx.AsyncClient, emulator: Any, chunked: bool
) -> None:
    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=4 * MIB, chunked=chunked))
    client = UpstreamClient(one_connection, emulator.url, policy=FAST, max_body_bytes=MIB)
    with pytest.raises(UpstreamProtocolError):
        await client.list_locations(token=emulator.token_a)
    # The only connection of the pool: had it gone back with 3 MiB unread, this answer
    # would be read from the middle of the last one, or wait for a slot that never frees.
    rows = await client.list_locations(token=emulator.token_a)
    expected = emulator.state.network.visible_locations(emulator.tenant_a)
    assert [row.id for row in rows] == [loc.uid for loc in expected]
    assert emulator.state.counters["getLocations"] == 2


@pytest.mark.parametrize("chunked", [True, False], ids=["counted", "declared"])
async def test_a_body_of_exactly_the_limit_is_read_whole(
    one_connection: httpx.AsyncClient, emulator: Any, chunked: bool
) -> None:
    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=MIB, chunked=chunked))
    client = UpstreamClient(one_connection, emulator.url, policy=FAST, max_body_bytes=MIB)
    rows = await client.list_locations(token=emulator.token_a)
    assert len(rows) > 10_000 and rows[0].id == "huge-0000000000"
    assert finished_meter(emulator).sent_bytes == MIB

    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=MIB + 1, chunked=chunked))
    with pytest.raises(UpstreamProtocolError):
        await client.list_locations(token=emulator.token_a)


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak_rss() -> None:
    """Make VmHWM (the peak RSS) start again from the current RSS (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        pytest.skip(f"cannot reset the peak RSS here: {exc}")


@pytest.mark.parametrize("chunked", [True, False], ids=["counted", "declared"])
async def test_memory_stays_flat_while_a_300_mib_body_is_refused(
    emulator: Any, chunked: bool, real_client: RealClientFactory
) -> None:
    size = 300 * MIB
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=2) as http:
        client = UpstreamClient(http, emulator.url, policy=FAST)  # the default 8 MiB limit
        await client.list_locations(token=emulator.token_a)  # warm: pool, decoders, caches
        emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=size, chunked=chunked))
        gc.collect()
        before = _memory_kib("VmRSS")
        _reset_peak_rss()
        with pytest.raises(UpstreamProtocolError):
            await client.list_locations(token=emulator.token_a)
        await asyncio.to_thread(finished_meter(emulator).finished.wait)
        peak = _memory_kib("VmHWM")
        after = _memory_kib("VmRSS")
    print(f"\nVmRSS before {before} kB, peak {peak} kB, after {after} kB ({chunked=})")
    # A peak, not just the RSS after: a body read whole and freed would leave RSS where
    # it was. The peak may hold the 8 MiB read, its join, and the server's buffers.
    assert (peak - before) * 1024 < size // 10


# --- against a scripted transport ------------------------------------------------------------


class CountedStream(httpx.AsyncByteStream):
    """A body of `chunks` pieces that records how many were pulled and whether it closed;
    `stall` waits before the piece of that index (for the deadline and the bound)."""

    def __init__(
        self, chunks: int, piece: bytes = b" " * 1024, stall: asyncio.Event | None = None
    ) -> None:
        self.chunks = chunks
        self.piece = piece
        self.pulled = 0
        self.closed = False
        self.stall = stall

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index in range(self.chunks):
            if index == 1 and self.stall is not None:
                await self.stall.wait()
            self.pulled += 1
            yield self.piece

    async def aclose(self) -> None:
        self.closed = True


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    upstream: ScriptedUpstream,
) -> None:
    stream = CountedStream(chunks=100)
    upstream.reply(httpx.Response(200, headers={"Content-Length": "102400"}, stream=stream))
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST, max_body_bytes=10_000)
    with pytest.raises(UpstreamProtocolError, match="10000 bytes"):
        await client.list_locations(token=TOKEN)
    assert stream.pulled == 0 and stream.closed
    assert len(upstream.requests) == 1


async def test_an_undeclared_body_is_counted_and_cut_at_the_limit(
    upstream: ScriptedUpstream,
) -> None:
    stream = CountedStream(chunks=100)  # 100 KiB, no Content-Length
    upstream.reply(httpx.Response(200, stream=stream))
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST, max_body_bytes=10_000)
    with pytest.raises(UpstreamProtocolError):
        await client.list_locations(token=TOKEN)
    assert stream.pulled == 10 and stream.closed  # 10 KiB: the first piece over 10,000 bytes
    assert len(upstream.requests) == 1


async def test_an_error_answer_over_the_limit_still_reports_its_status(
    upstream: ScriptedUpstream,
) -> None:
    async def big_503(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, stream=CountedStream(chunks=100))

    upstream.reply(big_503, json_reply({"locations": []}))
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST, max_body_bytes=10_000)
    assert await client.list_locations(token=TOKEN) == ()  # the 503 was retried as ever
    assert len(upstream.requests) == 2

    upstream.reply(big_503)
    with pytest.raises(UpstreamUnavailable, match="503"):
        await client.list_locations(token=TOKEN)


async def test_the_deadline_covers_reading_the_body(upstream: ScriptedUpstream) -> None:
    never = asyncio.Event()
    stream = CountedStream(chunks=3, stall=never)  # the second piece never comes
    upstream.reply(httpx.Response(200, stream=stream))
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST)
    with pytest.raises(UpstreamTimeout, match="deadline"):
        await client.list_locations(token=TOKEN, deadline=time.monotonic() + 0.1)
    assert stream.pulled == 1 and stream.closed


async def test_the_concurrency_slot_is_held_until_the_body_is_read(
    upstream: ScriptedUpstream,
) -> None:
    release = asyncio.Event()
    # `{"locations": []}` in two pieces; the second waits for `release`.
    stalled = CountedStream(chunks=2, piece=b" " * 8, stall=release)
    upstream.reply(httpx.Response(200, stream=stalled), json_reply({"locations": []}))
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST, max_concurrency=1)
    calls = [asyncio.create_task(client.list_locations(token=TOKEN)) for _ in range(2)]
    for _ in range(20):  # let both tasks run as far as they can
        await asyncio.sleep(0)
    assert len(upstream.requests) == 1  # the second waits: the first's body is unread
    release.set()
    with pytest.raises(UpstreamProtocolError):  # 16 spaces are no JSON, but were read
        await calls[0]
    assert await calls[1] == ()
    assert len(upstream.requests) == 2


async def test_a_body_within_the_limit_is_the_responses_content(
    upstream: ScriptedUpstream,
) -> None:
    rows = {"locations": [{"id": f"loc-{i}"} for i in range(2000)]}
    upstream.reply(json_reply(rows))
    assert len(await upstream.client().list_locations(token=TOKEN)) == 2000


async def test_a_body_that_does_not_match_its_encoding_is_a_protocol_error(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(
        httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"nope"))
    )
    with pytest.raises(UpstreamProtocolError, match="decoded"):
        await upstream.client().list_locations(token=TOKEN)
    assert len(upstream.requests) == 1


async def test_a_gzipped_body_is_limited_by_its_decoded_size(upstream: ScriptedUpstream) -> None:
    packed = gzip.compress(b" " * 200_000)  # a few hundred bytes on the wire
    upstream.reply(
        httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(packed))
    )
    client = UpstreamClient(upstream.http, BASE_URL, policy=FAST, max_body_bytes=100_000)
    with pytest.raises(UpstreamProtocolError, match="100000 bytes"):
        await client.list_locations(token=TOKEN)


# --- requests the gateway cannot form -------------------------------------------------------


async def test_an_id_too_long_for_any_upstream_is_not_found_without_a_call(
    upstream: ScriptedUpstream,
) -> None:
    uid = "x" * 500_000
    with pytest.raises(NotFound) as caught:
        await upstream.client().get_location(uid, token=TOKEN)
    assert caught.value.operation == "getLocation"
    assert len(caught.value.message) < 200 and "127.0.0.1" not in caught.value.message
    assert upstream.requests == []


async def test_a_page_token_too_long_for_a_url_is_rejected_without_a_call(
    upstream: ScriptedUpstream,
) -> None:
    with pytest.raises(UpstreamRejected):
        await upstream.client().network_status_page(token=TOKEN, page_token="p" * 500_000)
    assert upstream.requests == []


async def test_a_base_url_httpx_refuses_is_rejected_not_a_crash(
    real_client: RealClientFactory,
) -> None:
    async with real_client() as http:
        client = UpstreamClient(http, "http://[::1/api", policy=RetryPolicy(max_attempts=1))
        with pytest.raises(UpstreamRejected, match="getLocations"):
            await client.list_locations(token=TOKEN)
