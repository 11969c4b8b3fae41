"""No client can hold the server: slow headers, slow bodies, idle connections and bursts
are closed or refused, counted in bytes and connections, while normal queries go on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.app import create_app
from gateway.http.server import server_config
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, loopback_socket

TRICKLE_S = 0.05  # one byte per tick


@contextlib.asynccontextmanager
async def served(emulator: RunningEmulator, **overrides: Any) -> AsyncIterator[tuple[str, int]]:
    settings = replace(
        gateway_settings(emulator.url),
        header_timeout_s=0.5,
        body_timeout_s=0.5,
        **overrides,
    )
    sock = loopback_socket()
    config = server_config(create_app(settings), settings, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()
        yield f"http://{host}:{port}", port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def trickle(port: int, head: bytes, drip: bytes, limit: int) -> tuple[int, bytes]:
    """Send `head`, then `drip` a byte per tick until the server answers or closes;
    return how many bytes were dripped, and what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    sent = 0
    try:
        for byte in drip[:limit]:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(4096), TRICKLE_S)
                return sent, answer  # an answer, or b"" when closed
    except (ConnectionError, BrokenPipeError):
        return sent, b""
    finally:
        writer.close()
    return sent, b"still open"


async def test_slow_headers_are_cut_off(emulator: RunningEmulator) -> None:
    async with served(emulator) as (_, port):
        head = b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        sent, answer = await trickle(port, head, b"X-Slow: " + b"a" * 1000, limit=1000)
    assert answer == b""  # closed without a request ever reaching the app
    assert sent < 100  # about half a second of a byte per tick, never the whole header


async def test_a_slow_body_gets_a_408(emulator: RunningEmulator) -> None:
    async with served(emulator) as (_, port):
        head = (
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sent, answer = await trickle(port, head, b"{" + b" " * 999, limit=1000)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"REQUEST_TIMEOUT" in answer
    assert sent < 100


async def test_idle_connections_are_closed_and_queries_go_on(
    emulator: RunningEmulator,
) -> None:
    async with served(emulator) as (url, port):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
        async with httpx.AsyncClient() as http:
            body = (
                await http.post(
                    f"{url}/graphql",
                    json={"query": "{ locations(first: 2) { nodes { id } } }"},
                    headers={"Authorization": f"Bearer {emulator.token_a}"},
                )
            ).json()
        assert len(body["data"]["locations"]["nodes"]) == 2
        # Every idle connection is closed by the server (read answers EOF), none kept.
        closed = await asyncio.wait_for(
            asyncio.gather(*(reader.read() for reader, _ in idle)), timeout=30
        )
        assert closed == [b""] * 200
        for _, writer in idle:
            writer.close()


async def test_a_burst_past_the_limit_is_refused_with_a_code(
    emulator: RunningEmulator,
) -> None:
    emulator.state.latency_ms = 300  # keep the first requests in flight
    async with (
        served(emulator, max_requests_in_flight=3) as (url, _),
        httpx.AsyncClient(timeout=30) as http,
    ):
        responses = await asyncio.gather(
            *(
                http.post(
                    f"{url}/graphql",
                    json={"query": "{ locations(first: 1) { nodes { id } } }"},
                    headers={"Authorization": f"Bearer {emulator.token_a}"},
                )
                for _ in range(10)
            )
        )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) >= 3 and statuses.count(503) >= 1
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert busy.headers["retry-after"] == "1"


@pytest.mark.parametrize("path", ["/healthz"])
async def test_health_stays_outside_the_request_limit(emulator: RunningEmulator, path: str) -> None:
    async with served(emulator, max_requests_in_flight=0) as (url, _), httpx.AsyncClient() as http:
        assert (await http.get(url + path)).status_code == 200
        assert (
            await http.post(url + "/graphql", json={"query": "{ __typename }"})
        ).status_code == 503
