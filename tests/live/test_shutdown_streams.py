"""SIGTERM with HTTP subscription streams open: each ends with a `SHUTTING_DOWN` error,
then the process exits.

The gateway runs as `python -m gateway serve` in its own process with a graceful-shutdown
timeout of an hour. uvicorn drains connections before the app's lifespan shutdown, and an
SSE or multipart stream never drains by itself, so without the server ending the live
subscriptions first this test would wait out that hour (pytest-timeout stops it first).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_cli import free_port
from tests.live.conftest import WAIT_S, live_gateway
from tests.support import RunningEmulator, running_emulator

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = "subscription { networkSummaryChanges { evseCount } }"
CHANGES = "subscription { evseStatusChanges(includeInitial: true) { status } }"
MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'
HOUR = "3600"


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each server-sent event, until the stream ends; comments skipped."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer = (buffer + chunk).replace("\r\n", "\n")
        *blocks, buffer = buffer.split("\n\n")
        for block in blocks:
            fields = [line.partition(": ") for line in block.split("\n") if line]
            named = {name: value for name, _, value in fields if name}
            if "event" in named:
                yield named["event"], named.get("data", "")


async def multipart_payloads(response: httpx.Response) -> AsyncIterator[Any]:
    """Each part's JSON body, heartbeats (`{}`) skipped, then None for the closing boundary."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        *parts, buffer = buffer.split("\r\n--graphql")
        for part in parts:
            body = part.rpartition("\r\n\r\n")[2].strip()
            if body and body != "{}":
                yield json.loads(body)
    if buffer.startswith("--"):  # `--graphql--`: the stream completed
        yield None


def code_of(result: dict[str, Any]) -> str:
    code: str = result["errors"][0]["extensions"]["code"]
    return code


async def test_sigterm_ends_sse_and_multipart_streams_with_shutting_down() -> None:
    async with running_emulator() as emulator:
        port = free_port()
        env = {
            **os.environ,
            "GATEWAY_SHUTDOWN_TIMEOUT_S": HOUR,
            "GATEWAY_LIVE_STATUS_INTERVAL_S": HOUR,  # one poll, when the cohort starts
            "GATEWAY_LIVE_KEEPALIVE_S": "0",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "gateway", "serve", "--port", str(port), "--upstream-url", emulator.url),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        auth = {"Authorization": f"Bearer {emulator.token_a}"}
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=WAIT_S
            ) as http:
                for _ in range(600):
                    try:
                        await http.get("/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                sse_request = http.stream(
                    "POST",
                    "/graphql",
                    json={"query": SUMMARY},
                    headers={**auth, "Accept": "text/event-stream"},
                )
                multipart_request = http.stream(
                    "POST",
                    "/graphql",
                    json={"query": CHANGES},
                    headers={**auth, "Accept": MULTIPART},
                )
                async with sse_request as sse, multipart_request as multipart:
                    events = sse_events(sse)
                    parts = multipart_payloads(multipart)
                    # Both subscriptions are live: each has had its first event.
                    event, data = await anext(events)
                    assert event == "next" and "errors" not in json.loads(data)
                    assert "errors" not in (await anext(parts))["payload"]
                    metrics = (await http.get("/metrics")).text
                    assert "\ngateway_live_subscriptions 2.0\n" in metrics

                    process.send_signal(signal.SIGTERM)

                    # The SSE stream: what was pending, then the error, then `complete`.
                    after = [(event, data) async for event, data in events]
                    assert [event for event, _ in after][-2:] == ["next", "complete"]
                    assert code_of(json.loads(after[-2][1])) == "SHUTTING_DOWN"
                    # The multipart stream: the error as its last part, then its end.
                    rest = [payload async for payload in parts]
                    assert rest[-1] is None, rest
                    last = rest[-2]
                    assert code_of(last.get("payload") or last) == "SHUTTING_DOWN", last
            # Both streams have ended and the process exits, within the hour it had.
            assert await process.wait() in (0, -signal.SIGTERM)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_closed_hub_refuses_new_subscriptions_with_shutting_down(
    emulator: RunningEmulator,
) -> None:
    """A subscription read just as the shutdown began gets the same error, and no poll."""
    async with live_gateway(emulator) as gateway:
        gateway.live.close()
        await gateway.reset_counts()
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {emulator.token_a}"}
        async with gateway.admin.stream(
            "POST", f"{gateway.url}/graphql", json={"query": SUMMARY}, headers=headers
        ) as sse:
            events = [(event, data) async for event, data in sse_events(sse)]
        assert [event for event, _ in events] == ["next", "complete"]
        assert code_of(json.loads(events[0][1])) == "SHUTTING_DOWN"
        assert gateway.live.cohort_count == 0
        assert await gateway.counts() == {}
