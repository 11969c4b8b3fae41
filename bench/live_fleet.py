"""`python -m bench live-fleet [--quick]`: live subscribers over two replicas on one Redis.

    emulator (this process) <-- replica A, replica B (one Redis) <-- two client processes

1,000 graphql-transport-ws subscribers (`evseStatusChanges`, one socket each, from
`bench/live_clients.py`) on 10 credentials, half of each credential's subscribers on each
replica (500 per replica), status polled every second; for a fixed window (30 s, quick 8 s)
the emulator's clock steps every two seconds. Counted at the emulator, which serves both
replicas under their own path prefix (`/replica-A`, `/replica-B`) so each call is known by
replica and by token: upstream calls per minute per credential and in all, against the
single-process ideal, one status walk per credential per interval (its pages, summed over
the credentials: 60 / interval x pages per minute). From each replica's `/metrics`: the
status polls it made and the cohorts it runs, so which replica polled is visible. From the
subscribers: the events received against those expected (each step's changed EVSEs of a
tenant, for each of its subscribers).

Today each replica polls for its own subscribers, so the ratio is about 2 with two
replicas. With one poller per credential across the fleet it is about 1; extra settings
for the replicas go with `--env KEY=VALUE`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.fleet import Replica, metric_value, parse_env, running_redis, running_replicas
from bench.live import Subscriber, changed_evses, evse_states, machine, start_clients
from bench.side_by_side.report import RESULTS
from gateway.emulator import EmulatorConfig, EmulatorState, create_emulator_app
from gateway.emulator.endpoint import emulator_state
from tests.support import FIXED_NOW, serving

PREFIX = "/replica-"
POLLS = "gateway_live_polls_total"


@dataclass(frozen=True)
class Options:
    quick: bool = False
    subscribers: int = 1000
    credentials: int = 10
    replicas: int = 2
    seconds: float = 30.0
    interval_s: float = 1.0
    step_every_s: float = 2.0
    latency_ms: int = 20
    page_size: int = 5
    env: tuple[tuple[str, str], ...] = ()


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench live-fleet",
        description="Live subscribers over gateway replicas on one Redis: upstream calls "
        "per minute against one poll per credential per interval.",
    )
    parser.add_argument("--quick", action="store_true", help="an 8 s window")
    parser.add_argument("--subscribers", type=int, default=Options.subscribers)
    parser.add_argument("--credentials", type=int, default=Options.credentials)
    parser.add_argument("--replicas", type=int, default=Options.replicas)
    parser.add_argument("--seconds", type=float, help="measured window (full 30, quick 8)")
    parser.add_argument("--interval-s", type=float, default=Options.interval_s)
    parser.add_argument("--step-every-s", type=float, default=Options.step_every_s)
    parser.add_argument("--latency-ms", type=int, default=Options.latency_ms)
    parser.add_argument("--page-size", type=int, default=Options.page_size)
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for every replica (repeatable)"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (8.0 if args.quick else 30.0)
    if not 1 <= args.replicas <= 4:
        parser.error("--replicas must be 1 to 4")
    if args.credentials < 1 or args.subscribers < args.credentials * args.replicas:
        parser.error("--subscribers must give every credential a subscriber on each replica")
    if seconds <= 2 * args.interval_s:
        parser.error("--seconds must be longer than two intervals")
    try:
        env = tuple(parse_env(args.env).items())
    except ValueError as exc:
        parser.error(str(exc))
    return Options(
        args.quick, args.subscribers, args.credentials, args.replicas, seconds,
        args.interval_s, args.step_every_s, args.latency_ms, args.page_size, env,
    )  # fmt: skip


# --- pure helpers -----------------------------------------------------------------------------


def split_tag(path: str) -> tuple[str | None, str]:
    """`/replica-A/locations` -> ("A", "/locations"); a path without the prefix is untagged."""
    if not path.startswith(PREFIX):
        return None, path
    tag, slash, rest = path[len(PREFIX) :].partition("/")
    return (tag, slash + rest) if tag else (None, path)


def ideal_per_minute(pages: Sequence[int], interval_s: float) -> float:
    """One status walk per credential per interval: its pages, summed, per minute."""
    return sum(pages) * 60.0 / interval_s


def pages_of(locations: int, page_size: int) -> int:
    return max(1, math.ceil(locations / page_size))


def assign(subscribers: int, credentials: int, replicas: int) -> list[tuple[int, int]]:
    """(credential, replica) of each subscriber: credentials in turn, and each credential's
    subscribers in turn over the replicas, so every replica holds every credential."""
    return [(i % credentials, (i // credentials) % replicas) for i in range(subscribers)]


# --- the emulator, counting each call by replica and token -------------------------------------


@dataclass
class Tally:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(replica, token) -> upstream calls."""
    paths: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(replica, path) -> upstream calls."""

    def clear(self) -> None:
        self.calls.clear()
        self.paths.clear()


def tagged(app: ASGIApp, tally: Tally) -> ASGIApp:
    """The emulator under `/replica-<name>/...` for each replica: strip the prefix and count
    the call by replica and token (the Authorization header) before the emulator answers."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            tag, path = split_tag(scope["path"])
            if tag is not None:
                headers = dict(scope.get("headers") or ())
                token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
                tally.calls[(tag, token)] += 1
                tally.paths[(tag, path)] += 1
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return wrapper


# --- the run ------------------------------------------------------------------------------------


async def scrape(http: httpx.AsyncClient, replicas: Sequence[Replica]) -> list[str]:
    return [(await http.get(f"{r.url}/metrics")).text for r in replicas]


def status_polls(text: str) -> float:
    return metric_value(text, POLLS, {"resource": "status", "outcome": "ok"})


async def run(options: Options) -> dict[str, Any]:
    config = EmulatorConfig(
        seed=7,
        admin=True,
        now=FIXED_NOW,
        latency_ms=options.latency_ms,
        page_size=options.page_size,
    )
    app = create_emulator_app(config)
    state: EmulatorState = emulator_state(app)
    tally = Tally()
    logs = Path(tempfile.mkdtemp(prefix="bench-live-fleet-"))
    names = ["AB"[i] if i < 2 else str(i) for i in range(options.replicas)]
    tenant_ids = [tenant.id for tenant in state.tenants]
    tokens = [
        (tenant_ids[i % len(tenant_ids)], state.tokens.mint(tenant_ids[i % len(tenant_ids)],
                                                             time.time(), 3600)[0])
        for i in range(options.credentials)
    ]  # fmt: skip
    pages = {
        tenant: pages_of(len(state.network.visible_locations(tenant)), state.page_size)
        for tenant in tenant_ids
    }
    env = {
        "GATEWAY_LIVE_STATUS_INTERVAL_S": str(options.interval_s),
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CREDENTIAL": str(options.subscribers + 1),
        "GATEWAY_LIVE_MAX_CONNECTIONS": str(options.subscribers + 10),
        "GATEWAY_UPSTREAM_PAGE_SIZE": str(state.page_size),
        **dict(options.env),
    }
    stack = ExitStack()
    clients: list[asyncio.subprocess.Process] = []
    readers: list[asyncio.Task[None]] = []
    async with serving(tagged(app, tally)) as url, httpx.AsyncClient(timeout=30) as http:
        try:
            redis_url = await asyncio.to_thread(stack.enter_context, running_redis(None))
            upstream = [f"{url}{PREFIX}{name}" for name in names]
            replicas: list[Replica] = await asyncio.to_thread(
                stack.enter_context, running_replicas(upstream, redis_url, env, None, logs)
            )
            plan = assign(options.subscribers, options.credentials, options.replicas)
            subscribers = [Subscriber(*tokens[credential]) for credential, _ in plan]
            on_replica = [[s for s, (_, r) in zip(subscribers, plan, strict=True) if r == i]
                          for i in range(options.replicas)]  # fmt: skip
            for index, replica in enumerate(replicas):
                ws_url = f"ws://127.0.0.1:{replica.port}/graphql"
                process, reading = await start_clients(ws_url, on_replica[index])
                clients.append(process)
                readers.append(reading)
            await asyncio.sleep(2 * options.interval_s)  # every cohort has polled
            before = await scrape(http, replicas)
            seen = [len(s.received) for s in subscribers]
            expected = [0] * len(subscribers)
            tally.clear()
            started = time.monotonic()
            last_step = options.seconds - 2 * options.interval_s - 0.5
            steps = 0
            while (moment := steps * options.step_every_s + options.step_every_s) <= last_step:
                await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
                views = {tenant: evse_states_of(state, tenant) for tenant in set(tenant_ids)}
                state.advance(1)
                steps += 1
                changed = {t: changed_evses_of(state, t, views[t]) for t in views}
                for i, subscriber in enumerate(subscribers):
                    expected[i] += changed[subscriber.tenant]
            await asyncio.sleep(max(0.0, started + options.seconds - time.monotonic()))
            window = time.monotonic() - started
            calls = Counter(tally.calls)
            paths = Counter(tally.paths)
            after = await scrape(http, replicas)
            received = [len(s.received) - n for s, n in zip(subscribers, seen, strict=True)]
        finally:
            for process in clients:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                await process.wait()
            for reading in readers:
                reading.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await asyncio.to_thread(stack.close)
    return summarise(
        options, window, steps, tokens, pages, names, calls, paths, before, after,
        plan, received, expected,
    )  # fmt: skip


def evse_states_of(state: EmulatorState, tenant: str) -> dict[object, object]:
    return evse_states(_View(state), tenant)  # type: ignore[arg-type]


def changed_evses_of(state: EmulatorState, tenant: str, before: dict[object, object]) -> int:
    return changed_evses(_View(state), tenant, before)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _View:
    """What `bench.live`'s helpers read of a RunningEmulator: its state."""

    state: EmulatorState


def summarise(
    options: Options,
    window: float,
    steps: int,
    tokens: Sequence[tuple[str, str]],
    pages: dict[str, int],
    names: Sequence[str],
    calls: Counter[tuple[str, str]],
    paths: Counter[tuple[str, str]],
    before: Sequence[str],
    after: Sequence[str],
    plan: Sequence[tuple[int, int]],
    received: Sequence[int],
    expected: Sequence[int],
) -> dict[str, Any]:
    per_minute = 60.0 / window
    per_credential = []
    for index, (tenant, token) in enumerate(tokens):
        by_replica = {name: calls[(name, token)] * per_minute for name in names}
        ideal = ideal_per_minute([pages[tenant]], options.interval_s)
        total = sum(by_replica.values())
        per_credential.append(
            {
                "credential": index + 1,
                "tenant": tenant,
                "pages": pages[tenant],
                "calls_per_min": total,
                "by_replica": by_replica,
                "ideal_per_min": ideal,
                "ratio": total / ideal,
            }
        )
    ideal = ideal_per_minute([pages[tenant] for tenant, _ in tokens], options.interval_s)
    total = sum(calls.values()) * per_minute
    replicas = []
    for index, name in enumerate(names):
        mine = [i for i, (_, r) in enumerate(plan) if r == index]
        replicas.append(
            {
                "replica": name,
                "status_polls": status_polls(after[index]) - status_polls(before[index]),
                "cohorts": metric_value(after[index], "gateway_live_cohorts"),
                "subscriptions": metric_value(after[index], "gateway_live_subscriptions"),
                "calls_per_min": sum(n for (r, _), n in calls.items() if r == name) * per_minute,
                "events_received": sum(received[i] for i in mine),
                "events_expected": sum(expected[i] for i in mine),
            }
        )
    return {
        "options": {k: v for k, v in options.__dict__.items() if k != "env"},
        "extra_env": dict(options.env),
        "window_s": window,
        "clock_steps": steps,
        "calls_per_min": total,
        "ideal_per_min": ideal,
        "ratio": total / ideal if ideal else float("nan"),
        "per_credential": per_credential,
        "replicas": replicas,
        "paths": {f"{r} {p}": n for (r, p), n in sorted(paths.items())},
        "status_polls_per_credential_interval": sum(r["status_polls"] for r in replicas)
        / (len(tokens) * window / options.interval_s),
        "events_received": sum(received),
        "events_expected": sum(expected),
        "subscribers_without_event": sum(1 for n in received if n == 0),
    }


def document(result: dict[str, Any], facts: str) -> str:
    o = result["options"]
    head = (
        f"# Live fleet: {o['subscribers']} subscribers, {o['credentials']} credentials, "
        f"{o['replicas']} replicas on one Redis\n\n- {facts}\n"
        f"- status poll every {o['interval_s']} s, emulator latency {o['latency_ms']} ms, "
        f"page size {o['page_size']}; window {result['window_s']:.1f} s, "
        f"{result['clock_steps']} clock steps\n"
        f"- extra replica settings: {result['extra_env'] or 'none'}\n\n"
    )
    names = [r["replica"] for r in result["replicas"]]
    lines = [
        "| credential | tenant | pages | calls/min | "
        + " | ".join(f"on {n}" for n in names)
        + " | ideal/min | ratio |",
        "|" + "---|" * (6 + len(names)),
    ]
    for c in result["per_credential"]:
        cells = [str(c["credential"]), c["tenant"], str(c["pages"]), f"{c['calls_per_min']:.0f}"]
        cells += [f"{c['by_replica'][n]:.0f}" for n in names]
        cells += [f"{c['ideal_per_min']:.0f}", f"{c['ratio']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    by_replica = [sum(c["by_replica"][n] for c in result["per_credential"]) for n in names]
    lines.append(
        "| **all** | | | "
        + f"**{result['calls_per_min']:.0f}** | "
        + " | ".join(f"{v:.0f}" for v in by_replica)
        + f" | **{result['ideal_per_min']:.0f}** | **{result['ratio']:.2f}** |"
    )
    replica_lines = [
        "| replica | cohorts | status polls in the window | subscriptions | events received "
        "(expected) |",
        "|---|---|---|---|---|",
    ]
    for r in result["replicas"]:
        replica_lines.append(
            f"| {r['replica']} | {r['cohorts']:.0f} | {r['status_polls']:.0f} | "
            f"{r['subscriptions']:.0f} | {r['events_received']} ({r['events_expected']}) |"
        )
    return (
        head
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(replica_lines)
        + "\n\nStatus polls per credential and interval, all replicas together: "
        + f"{result['status_polls_per_credential_interval']:.2f} (1 would be one poller per "
        + "credential at the nominal interval)."
        + f"\n\nEvents received {result['events_received']} of {result['events_expected']} "
        f"expected; subscribers without any event: {result['subscribers_without_event']}.\n\n"
        "calls/min: upstream calls counted at the emulator over the window, per minute "
        "(`on A`, `on B`: made by that replica). ideal/min: one status walk per credential "
        "per interval, 60 / interval x its pages (the single-process ideal; a walk's own "
        "time and the ±10 % jitter put even one process slightly under it). ratio: "
        "calls/min over ideal/min. status polls: `gateway_live_polls_total{resource=status,"
        "outcome=ok}` of that replica over the window (one per cohort and tick); cohorts: "
        "`gateway_live_cohorts` at the end. events expected: for every clock step, the EVSEs "
        "of the subscriber's tenant whose status changed, summed over the subscribers (a "
        "change within the last two intervals of the window is not stepped)."
    )


async def main(options: Options | None = None) -> bool:
    options = options or Options()
    facts = machine()
    print(
        f"{options.subscribers} subscribers on {options.credentials} credentials over "
        f"{options.replicas} replicas, status poll every {options.interval_s} s, "
        f"{options.seconds:g} s window\n{facts}",
        flush=True,
    )
    result = await run(options)
    markdown = document(result, facts)
    name = "live-fleet-quick" if options.quick else "live-fleet-latest"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown + "\n")
    print()
    print(markdown)
    print(f"\nwritten: {RESULTS / name}.md and .json")
    missing = result["events_expected"] - result["events_received"]
    if missing > 0:
        print(f"{missing} expected event(s) did not arrive within the window")
    return missing <= 0 and all(r["status_polls"] >= 0 for r in result["replicas"])
