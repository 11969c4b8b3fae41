"""`make run`'s demo: the emulator's clock ticks on its own, so a subscriber sees changes
without anyone stepping it (waits are generous bounds, not measurements)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from gateway.cli import DEMO_TICK_S, _emulator_config
from tests.cli.test_cli import ROOT, free_port, wait_for_banner


def flags(tick_s: float | None) -> argparse.Namespace:
    return argparse.Namespace(seed=None, latency_ms=None, page_size=None, admin=None, tick_s=tick_s)


def test_the_demo_ticks_unless_told_otherwise() -> None:
    assert _emulator_config({}, flags(None), tick_s=DEMO_TICK_S).tick_s == DEMO_TICK_S > 0
    assert _emulator_config({"CHARGEYE_EMULATOR_TICK_S": "0"}, flags(None), tick_s=2).tick_s == 0
    assert _emulator_config({}, flags(0.5), tick_s=2).tick_s == 0.5
    assert _emulator_config({}, flags(None)).tick_s == 0  # `emulator` alone stands still


async def test_a_demo_subscriber_sees_the_world_move() -> None:
    port, emulator_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GATEWAY_LIVE_STATUS_INTERVAL_S": "0.3"}
    command = [sys.executable, "-m", "gateway", "demo", "--port", str(port)]
    command += ["--emulator-port", str(emulator_port), "--tick-s", "0.2"]
    process = await asyncio.to_thread(
        subprocess.Popen,
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        banner = await asyncio.to_thread(wait_for_banner, process)
        token = re.findall(r"^\s{6}(\S+)$", banner, flags=re.MULTILINE)[0]
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{port}/graphql",
            init_payload={"Authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        document = GraphQLRequest("subscription { evseStatusChanges { status evse { evseId } } }")
        async with Client(transport=transport) as session:

            async def first_change() -> dict[str, object]:
                async for event in session.subscribe(document):
                    return event
                raise AssertionError("the subscription ended")

            event = await asyncio.wait_for(first_change(), 60)
        assert event["evseStatusChanges"]
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 15)
        assert process.stdout is not None
        process.stdout.close()
