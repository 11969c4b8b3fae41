"""Node clients subscribing through the gateway: graphql-ws (graphql-transport-ws, the
WebSocket client most frontends use) and graphql-sse (server-sent events over HTTP):
initial state, a change after the clock steps, and a refusal without a token."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from tests.http.audit import ROOT, node
from tests.live.conftest import WAIT_S, LiveGateway
from tests.live.oracle import evse_states

SCRIPT = ROOT / "tests" / "js" / "live.mjs"
SSE_SCRIPT = ROOT / "tests" / "js" / "sse.mjs"
CHANGES = """
subscription ($initial: Boolean!) {
  evseStatusChanges(includeInitial: $initial) { initial status evse { stationId evseId } }
}
"""


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), WAIT_S)
        assert raw, "the Node client ended early"
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    async def events(self, count: int) -> list[dict[str, Any]]:
        found = []
        while len(found) < count:
            line = await self.line()
            assert "next" in line, line
            found.append(line["next"])
        return found


def graphql_ws(
    gateway: LiveGateway, token: str, query: str, variables: dict[str, Any]
) -> AbstractAsyncContextManager[NodeClient]:
    return node_client(SCRIPT, gateway.ws_url, token, query, variables)


def graphql_sse(
    gateway: LiveGateway, token: str, query: str, variables: dict[str, Any]
) -> AbstractAsyncContextManager[NodeClient]:
    return node_client(SSE_SCRIPT, f"{gateway.url}/graphql", token, query, variables)


@asynccontextmanager
async def node_client(
    script: Path, url: str, token: str, query: str, variables: dict[str, Any]
) -> AsyncIterator[NodeClient]:
    process = await asyncio.create_subprocess_exec(
        node(),
        str(script),
        url,
        token,
        query,
        json.dumps(variables),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        assert process.stdin is not None
        process.stdin.write(b"stop\n")
        await process.stdin.drain()
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), WAIT_S)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_graphql_ws_subscribes_and_sees_a_change(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    states = evse_states(emulator, emulator.tenant_a)
    async with graphql_ws(gateway, emulator.token_a, CHANGES, {"initial": True}) as client:
        assert await client.line() == {"connected": True}
        initial = await client.events(len(states))
        keys = {
            (
                e["data"]["evseStatusChanges"]["evse"]["stationId"],
                e["data"]["evseStatusChanges"]["evse"]["evseId"],
            )
            for e in initial
        }
        assert keys == set(states)
        before = states
        for _ in range(50):
            await gateway.advance(1)
            after = evse_states(emulator, emulator.tenant_a)
            changed = {k for k in after if k in before and after[k] != before[k]}
            if changed:
                break
        await gateway.settle()
        fresh = await client.events(len(changed))
        assert {
            (
                e["data"]["evseStatusChanges"]["evse"]["stationId"],
                e["data"]["evseStatusChanges"]["evse"]["evseId"],
            )
            for e in fresh
        } == changed
        assert not any(e["data"]["evseStatusChanges"]["initial"] for e in fresh)


async def test_graphql_ws_without_a_token_is_refused(gateway: LiveGateway) -> None:
    await gateway.reset_counts()
    async with graphql_ws(gateway, "", CHANGES, {"initial": False}) as client:
        lines = [await client.line() for _ in range(2)]
    assert {"closed": 4403} in lines
    assert await gateway.counts() == {}


async def test_graphql_sse_subscribes_over_http(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    summary = "subscription { networkSummaryChanges { evseCount faultedEvseCount } }"
    states = evse_states(emulator, emulator.tenant_a)
    async with graphql_sse(gateway, emulator.token_a, summary, {}) as client:
        [first] = await client.events(1)
        assert first["data"]["networkSummaryChanges"]["evseCount"] == len(states)
        assert gateway.live.subscription_count == 1

        def faulted() -> int:
            return sum(
                1 for s, _, _ in evse_states(emulator, emulator.tenant_a).values() if s == "Faulted"
            )

        before = faulted()
        for _ in range(200):
            await gateway.advance(1)
            if faulted() != before:
                break
        await gateway.settle()
        [second] = await client.events(1)
        assert second["data"]["networkSummaryChanges"]["faultedEvseCount"] == faulted()
    await gateway.until_cohorts(0)  # the client went away: its subscription left


async def test_graphql_sse_without_a_token_gets_unauthenticated(gateway: LiveGateway) -> None:
    await gateway.reset_counts()
    summary = "subscription { networkSummaryChanges { evseCount } }"
    async with graphql_sse(gateway, "", summary, {}) as client:
        [event] = await client.events(1)
    assert event["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await gateway.counts() == {}
