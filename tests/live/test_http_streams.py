"""Multipart subscriptions over HTTP (Apollo's protocol), read at the wire: heartbeats,
then each event as a part; the client leaving ends the subscription."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.live.conftest import WAIT_S, LiveGateway
from tests.live.oracle import evse_states

MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'
SUMMARY = "subscription { networkSummaryChanges { evseCount } }"


async def test_multipart_subscription(gateway: LiveGateway) -> None:
    emulator = gateway.emulator
    headers = {"Accept": MULTIPART, "Authorization": f"Bearer {emulator.token_a}"}
    async with (
        httpx.AsyncClient(timeout=WAIT_S) as http,
        http.stream(
            "POST", f"{gateway.url}/graphql", json={"query": SUMMARY}, headers=headers
        ) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("multipart/mixed;boundary=graphql")
        payloads = []
        async for chunk in r.aiter_text():
            for part in chunk.split("--graphql"):
                body = part.rpartition("\r\n\r\n")[2].strip()
                if body and body != "{}":  # `{}` is a heartbeat
                    payloads.append(json.loads(body))
            if payloads:
                break
        [first] = payloads
        count = len(evse_states(emulator, emulator.tenant_a))
        assert first == {"payload": {"data": {"networkSummaryChanges": {"evseCount": count}}}}
    await asyncio.wait_for(gateway.until_cohorts(0), WAIT_S)
