"""Live data under load: N subscribers, one poll per credential.

    python -m bench live [--subscribers N] [--steps K] [--interval-s S]

Runs the emulator in this process and the gateway as a child process (`serve`, so its
memory and CPU are its own), opens N graphql-transport-ws connections with one
`evseStatusChanges` subscription each, spread over 1 and then 10 credentials (demo tokens
minted for the emulator's tenants), and steps the emulator's clock K times. Per run:

- RSS per subscriber: the gateway's resident memory with N subscribers open, minus what
  it held with none (after one warm-up subscriber), over N;
- CPU per poll tick: the gateway's CPU time over the steps, over the status polls it made
  per credential (one tick = every cohort polling once);
- upstream calls per tick, counted at the emulator;
- change→event latency p50 and p99: from a step to each subscriber receiving an event of
  it. A change waits for the next poll, so this is about half the interval plus the
  fan-out; the interval is printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from bench.side_by_side.processes import Service, free_port, group_usage, wait_for_http
from gateway.emulator import EmulatorConfig
from tests.support import FIXED_NOW, RunningEmulator, running_emulator

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = "subscription { evseStatusChanges { status evse { stationId evseId } } }"


@dataclass(frozen=True)
class Options:
    subscribers: int = 200
    steps: int = 10
    interval_s: float = 1.0


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench live")
    parser.add_argument("--subscribers", type=int, default=Options.subscribers)
    parser.add_argument("--steps", type=int, default=Options.steps)
    parser.add_argument("--interval-s", type=float, default=Options.interval_s)
    args = parser.parse_args(argv)
    return Options(args.subscribers, args.steps, args.interval_s)


@dataclass
class Subscriber:
    tenant: str
    received: list[float] = field(default_factory=list)  # arrival times (monotonic)


async def subscribe(url: str, token: str, subscriber: Subscriber, ready: asyncio.Event) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        await socket.recv()  # connection_ack
        message = {"id": "1", "type": "subscribe", "payload": {"query": DOCUMENT}}
        await socket.send(json.dumps(message))
        ready.set()
        async for raw in socket:
            kind = json.loads(raw)["type"]
            if kind == "next":
                subscriber.received.append(time.monotonic())
            elif kind == "ping":
                await socket.send('{"type": "pong"}')


def credentials(emulator: RunningEmulator, count: int) -> list[tuple[str, str]]:
    """`count` distinct tokens (tenant, token), round robin over the tenants."""
    state = emulator.state
    tenants = [tenant.id for tenant in state.tenants]
    return [
        (
            tenants[i % len(tenants)],
            state.tokens.mint(tenants[i % len(tenants)], time.time(), 3600)[0],
        )
        for i in range(count)
    ]


def changed_evses(emulator: RunningEmulator, tenant: str, before: dict[object, object]) -> int:
    now = evse_states(emulator, tenant)
    return sum(1 for key, state in now.items() if key in before and before[key] != state)


def evse_states(emulator: RunningEmulator, tenant: str) -> dict[object, object]:
    network = emulator.state.network
    return {
        (evse.station_id, evse.evse_id): (evse.status, evse.tx_status, evse.tx_id)
        for location in network.visible_locations(tenant)
        for station in network.stations_at(location.uid)
        for evse in network.evses_of(station.station_id)
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def status_polls(http: httpx.AsyncClient, url: str) -> float:
    text = (await http.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith('gateway_live_polls_total{outcome="ok",resource="status"}'):
            return float(line.split()[-1])
    return 0.0


async def one_run(options: Options, credential_count: int) -> dict[str, float]:
    config = EmulatorConfig(seed=7, admin=True, now=FIXED_NOW)
    async with running_emulator(config) as emulator, httpx.AsyncClient(timeout=30) as http:
        port = free_port()
        env = {
            **os.environ,
            "GATEWAY_LIVE_STATUS_INTERVAL_S": str(options.interval_s),
            "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL": str(options.subscribers + 1),
            "GATEWAY_LIVE_MAX_CONNECTIONS": str(options.subscribers + 10),
            "GATEWAY_UPSTREAM_PAGE_SIZE": str(emulator.state.page_size),
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_CURSOR_SECRET": "bench",
        }
        command = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
        command += ["--upstream-url", emulator.url]
        url = f"http://127.0.0.1:{port}"
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        with Service("gateway", command, cwd=ROOT, env=env) as gateway:
            await asyncio.to_thread(wait_for_http, gateway, f"{url}/healthz")
            tokens = credentials(emulator, credential_count)
            warm = Subscriber(tokens[0][0])
            ready = asyncio.Event()
            tasks = [asyncio.create_task(subscribe(ws_url, tokens[0][1], warm, ready))]
            await ready.wait()
            await asyncio.sleep(2 * options.interval_s)
            baseline = group_usage(gateway.pid)
            subscribers = []
            for i in range(options.subscribers):
                tenant, token = tokens[i % len(tokens)]
                subscriber, ready = Subscriber(tenant), asyncio.Event()
                subscribers.append(subscriber)
                tasks.append(asyncio.create_task(subscribe(ws_url, token, subscriber, ready)))
                await ready.wait()
            await asyncio.sleep(2 * options.interval_s)
            loaded = group_usage(gateway.pid)
            polls_before = await status_polls(http, url)
            emulator.state.reset()
            latencies: list[float] = []
            for _ in range(options.steps):
                before = {t: evse_states(emulator, t) for t in {s.tenant for s in subscribers}}
                seen = [len(s.received) for s in subscribers]
                # Step at a random moment of the poll cycle, not always just after a poll.
                await asyncio.sleep(random.uniform(0, options.interval_s))
                stepped = time.monotonic()
                emulator.state.advance(1)
                expected = {t: changed_evses(emulator, t, before[t]) for t in before}
                deadline = stepped + 10 * options.interval_s + 5
                while time.monotonic() < deadline and any(  # noqa: ASYNC110 (many sockets' state)
                    len(s.received) - n < expected[s.tenant]
                    for s, n in zip(subscribers, seen, strict=True)
                ):
                    await asyncio.sleep(0.01)
                for subscriber, n in zip(subscribers, seen, strict=True):
                    latencies += [t - stepped for t in subscriber.received[n:]]
            done = group_usage(gateway.pid)
            ticks = (await status_polls(http, url) - polls_before) / credential_count
            calls = sum(emulator.state.counters.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "rss_kib_per_subscriber": (loaded.rss_kib - baseline.rss_kib) / options.subscribers,
        "cpu_ms_per_tick": 1000 * (done.cpu_s - loaded.cpu_s) / max(ticks, 1),
        "upstream_calls_per_tick": calls / max(ticks, 1),
        "ticks": ticks,
        "events": len(latencies),
        "latency_p50_ms": 1000 * percentile(latencies, 0.5) if latencies else float("nan"),
        "latency_p99_ms": 1000 * percentile(latencies, 0.99) if latencies else float("nan"),
    }


async def main(options: Options | None = None) -> bool | None:
    options = options or Options()
    print(
        f"{options.subscribers} subscribers (evseStatusChanges, one WebSocket each), "
        f"{options.steps} clock steps, status poll every {options.interval_s} s\n"
    )
    print("credentials  RSS/subscriber  CPU/tick  upstream calls/tick  events  p50      p99")
    for count in (1, 10):
        r = await one_run(options, count)
        rss, cpu = r["rss_kib_per_subscriber"], r["cpu_ms_per_tick"]
        print(
            f"{count:>11}  {rss:>10.1f} KiB  {cpu:>5.1f} ms"
            f"  {r['upstream_calls_per_tick']:>19.1f}  {r['events']:>6.0f}"
            f"  {r['latency_p50_ms']:>5.0f} ms  {r['latency_p99_ms']:>5.0f} ms"
        )
    return None
