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
- upstream calls per tick, counted at the emulator, and the goal beside it: the pages of
  one status walk of each credential's tenant, summed (cohorts x pages);
- change→event latency p50 and p99: from a step to each subscriber receiving an event of
  it. A change waits for the next poll, so this is about half the interval plus the
  fan-out; the interval is printed with it;
- poll→event p50 and p99, the fan-out alone: from the first status request of the
  subscriber's credential after the step (stamped at the emulator) to the event.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.live_clients import subscribe
from bench.side_by_side.processes import Service, free_port, group_usage, wait_for_http
from gateway.emulator import EmulatorConfig
from tests.support import FIXED_NOW, RunningEmulator, running_emulator

ROOT = Path(__file__).resolve().parents[1]


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
    token: str = ""
    received: list[float] = field(default_factory=list)  # arrival times (monotonic)


def stamp_polls(emulator: RunningEmulator) -> dict[str, list[float]]:
    """When each token's upstream requests arrived (monotonic, this process's clock): the
    emulator checks every request's token once, so wrapping that check stamps them."""
    stamps: dict[str, list[float]] = {}
    tokens = emulator.state.tokens
    check = tokens.tenant_of

    def stamped(authorization: str | None, *args: Any, **kwargs: Any) -> Any:
        token = (authorization or "").removeprefix("Bearer ")
        stamps.setdefault(token, []).append(time.monotonic())
        return check(authorization, *args, **kwargs)

    tokens.tenant_of = stamped  # type: ignore[method-assign]
    return stamps


def first_after(stamps: list[float], moment: float) -> float | None:
    index = bisect.bisect_left(stamps, moment)
    return stamps[index] if index < len(stamps) else None


def walk_pages(emulator: RunningEmulator, tenant: str) -> int:
    locations = len(emulator.state.network.visible_locations(tenant))
    return max(1, math.ceil(locations / emulator.state.page_size))


def machine() -> str:
    """The facts a reader needs to weigh the figures."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average {load} at the start"
    )


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


async def start_clients(
    url: str, subscribers: list[Subscriber]
) -> tuple[asyncio.subprocess.Process, asyncio.Task[None]]:
    """The subscribers' sockets in a child process (`bench/live_clients.py`); returns it
    once all have subscribed, and the task that records their events' arrival."""
    clients = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.live_clients",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert clients.stdin is not None and clients.stdout is not None
    spec = {"url": url, "tokens": [s.token for s in subscribers]}
    clients.stdin.write(json.dumps(spec).encode() + b"\n")
    await clients.stdin.drain()
    ready = asyncio.Event()

    async def read(stdout: asyncio.StreamReader) -> None:
        async for line in stdout:
            if line.startswith(b"ready"):
                ready.set()
                continue
            index, moment = line.split()
            subscribers[int(index)].received.append(float(moment))

    reading = asyncio.create_task(read(clients.stdout))
    await ready.wait()
    return clients, reading


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
            stamps = stamp_polls(emulator)
            warm = Subscriber(tokens[0][0])
            ready = asyncio.Event()
            tasks = [
                asyncio.create_task(
                    subscribe(
                        ws_url, tokens[0][1], lambda: warm.received.append(time.monotonic()), ready
                    )
                )
            ]
            await ready.wait()
            await asyncio.sleep(2 * options.interval_s)
            baseline = group_usage(gateway.pid)
            subscribers = [Subscriber(*tokens[i % len(tokens)]) for i in range(options.subscribers)]
            clients, reading = await start_clients(ws_url, subscribers)
            await asyncio.sleep(2 * options.interval_s)
            loaded = group_usage(gateway.pid)
            polls_before = await status_polls(http, url)
            emulator.state.reset()
            latencies: list[float] = []
            fan_out: list[float] = []
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
                    polled = first_after(stamps.get(subscriber.token, []), stepped)
                    if polled is not None:
                        fan_out += [t - polled for t in subscriber.received[n:] if t >= polled]
            done = group_usage(gateway.pid)
            ticks = (await status_polls(http, url) - polls_before) / credential_count
            calls = sum(emulator.state.counters.values())
            goal = sum(walk_pages(emulator, tenant) for tenant, _ in tokens)
            clients.terminate()
            await clients.wait()
            reading.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(reading, *tasks, return_exceptions=True)
    return {
        "rss_kib_per_subscriber": (loaded.rss_kib - baseline.rss_kib) / options.subscribers,
        "cpu_ms_per_tick": 1000 * (done.cpu_s - loaded.cpu_s) / max(ticks, 1),
        "upstream_calls_per_tick": calls / max(ticks, 1),
        "cohorts_x_pages": goal,
        "ticks": ticks,
        "events": len(latencies),
        "latency_p50_ms": 1000 * percentile(latencies, 0.5) if latencies else float("nan"),
        "latency_p99_ms": 1000 * percentile(latencies, 0.99) if latencies else float("nan"),
        "fan_out_p50_ms": 1000 * percentile(fan_out, 0.5) if fan_out else float("nan"),
        "fan_out_p99_ms": 1000 * percentile(fan_out, 0.99) if fan_out else float("nan"),
    }


async def main(options: Options | None = None) -> bool | None:
    options = options or Options()
    print(
        f"{options.subscribers} subscribers (evseStatusChanges, one WebSocket each), "
        f"{options.steps} clock steps, status poll every {options.interval_s} s\n{machine()}\n"
    )
    print(
        "credentials  RSS/subscriber  CPU/tick  calls/tick (goal)  events"
        "  change→event p50/p99  poll→event p50/p99"
    )
    for count in (1, 10):
        r = await one_run(options, count)
        rss, cpu = r["rss_kib_per_subscriber"], r["cpu_ms_per_tick"]
        calls = f"{r['upstream_calls_per_tick']:.1f} ({r['cohorts_x_pages']:.0f})"
        print(
            f"{count:>11}  {rss:>10.1f} KiB  {cpu:>5.1f} ms  {calls:>17}  {r['events']:>6.0f}"
            f"  {r['latency_p50_ms']:>7.0f} / {r['latency_p99_ms']:>5.0f} ms"
            f"  {r['fan_out_p50_ms']:>5.0f} / {r['fan_out_p99_ms']:>5.0f} ms"
        )
    return None
