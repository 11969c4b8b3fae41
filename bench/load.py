"""Throughput, latency and a bounded soak: concurrent clients of two tenants.

    python -m bench load [--seconds N] [--concurrency C] [--latency-ms L]

Serves the emulator (every upstream answer delayed by L ms) and the gateway on loopback
ports, then runs C concurrent clients for N seconds. Jobs go round tenant A, tenant B and
two shapes: the README's Dashboard example, and a walk of up to three
`transactions(first: 50)` pages, each page's `endCursor` passed back as `after`.

Printed: requests completed and per second, latency percentiles per shape, errors (a
non-200 answer, a GraphQL error or no answer; the first few shown), upstream calls per
request, the process's RSS and a cross-tenant check of every answer: each location,
station and transaction id must be one the emulator shows that tenant, and each answer
must list the same ids as the tenant's own warm-up answer of that shape.

The clients, the gateway and the emulator run in this one process, on one event loop:
the throughput is that of one core shared by all three, and the RSS is of all three.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import Settings
from tests.support import RunningEmulator, running_emulator, serving

README = Path(__file__).resolve().parents[1] / "README.md"

TRANSACTIONS_PAGE = """
query TransactionsPage($after: String) {
  transactions(first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { txId location { id } }
  }
}
"""
WALK_PAGES = 3
DASHBOARD, PAGE, WALK = "Dashboard", "transactions page", "transactions walk"

SHOWN_ERRORS = 5  # the first few errors and leaks are printed in full
REQUEST_TIMEOUT_S = 30.0  # one HTTP request; a hung request counts as an error
DRAIN_S = 60.0  # after the deadline, jobs in flight must end within this
MAX_JOBS_PER_CLIENT_SECOND = 2000  # a count bound on top of the time bound
PROGRESS_EVERY_S = 5.0

# Each bound keeps one run finite and small enough for a laptop.
MAX_SECONDS, MAX_CONCURRENCY, MAX_LATENCY_MS = 3600.0, 256, 10_000


@dataclass(frozen=True)
class Options:
    seconds: float = 20.0
    concurrency: int = 16
    latency_ms: int = 5


def parse_args(argv: list[str]) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m bench load",
        description="Concurrent clients of two tenants against the gateway and the emulator.",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=defaults.seconds,
        help=f"how long clients send requests (default {defaults.seconds:g})",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=defaults.concurrency,
        help=f"concurrent clients (default {defaults.concurrency})",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=defaults.latency_ms,
        help=f"emulator delay per upstream call (default {defaults.latency_ms})",
    )
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:g}]")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be in [1, {MAX_CONCURRENCY}]")
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        parser.error(f"--latency-ms must be in [0, {MAX_LATENCY_MS}]")
    return Options(args.seconds, args.concurrency, args.latency_ms)


# --- what each tenant may see --------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    label: str
    token: str
    visible: dict[str, frozenset[str]]
    """Kind ("location", "station", "transaction") -> the ids the emulator shows the tenant."""


def tenant_of(emulator: RunningEmulator, label: str, tenant_id: str, token: str) -> Tenant:
    network = emulator.state.network
    return Tenant(
        label,
        token,
        {
            "location": frozenset(loc.uid for loc in network.visible_locations(tenant_id)),
            "station": frozenset(s.station_id for s in network.visible_stations(tenant_id)),
            "transaction": frozenset(tx.tx_id for tx in network.visible_transactions(tenant_id)),
        },
    )


Ids = tuple[tuple[str, str], ...]


def dashboard_ids(data: dict[str, Any]) -> Ids:
    """Every (kind, id) of a Dashboard answer, in answer order."""
    ids: list[tuple[str, str]] = []
    for node in data["locations"]["nodes"]:
        ids.append(("location", node["id"]))
        for station in node["stations"] or ():
            ids.append(("station", station["stationId"]))
            for evse in station["evses"] or ():
                current = evse["currentTransaction"]
                if current is not None:
                    ids.append(("transaction", current["txId"]))
    return tuple(ids)


def page_ids(data: dict[str, Any]) -> Ids:
    """Every (kind, id) of a transactions page, in answer order."""
    ids: list[tuple[str, str]] = []
    for node in data["transactions"]["nodes"]:
        ids.append(("transaction", node["txId"]))
        if node["location"] is not None:
            ids.append(("location", node["location"]["id"]))
    return tuple(ids)


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What every answer added up to; `recording` is off during the warm-up."""

    recording: bool = False
    latencies_ms: dict[str, list[float]] = field(
        default_factory=lambda: {DASHBOARD: [], PAGE: [], WALK: []}
    )
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    ids_checked: int = 0
    leaks: int = 0
    leak_samples: list[str] = field(default_factory=list)
    mismatches: int = 0
    reference: dict[tuple[str, int, str], Ids] = field(default_factory=dict)
    """(shape, page, tenant) -> the ids of the warm-up answer."""

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < SHOWN_ERRORS:
            self.error_samples.append(text[:300])

    def check(self, tenant: Tenant, key: tuple[str, int, str], ids: Ids) -> None:
        self.ids_checked += len(ids)
        for kind, value in ids:
            if value not in tenant.visible[kind]:
                self.leaks += 1
                if len(self.leak_samples) < SHOWN_ERRORS:
                    self.leak_samples.append(f"tenant {tenant.label} got {kind} {value}")
        expected = self.reference.setdefault(key, ids)
        if ids != expected:
            self.mismatches += 1


async def post(
    http: httpx.AsyncClient,
    url: str,
    tally: Tally,
    tenant: Tenant,
    shape: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """One GraphQL request; its data, or None after counting an error."""
    started = time.perf_counter()
    try:
        response = await http.post(
            f"{url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {tenant.token}"},
        )
    except httpx.HTTPError as exc:
        tally.error(f"{shape} ({tenant.label}): {type(exc).__name__}: {exc}")
        return None
    elapsed_ms = (time.perf_counter() - started) * 1000
    if tally.recording:
        tally.requests += 1
        tally.latencies_ms[shape].append(elapsed_ms)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        tally.error(f"{shape} ({tenant.label}): HTTP {response.status_code} {response.text}")
        return None
    if body.get("errors") or not isinstance(body.get("data"), dict):
        tally.error(f"{shape} ({tenant.label}): {body.get('errors')}")
        return None
    data: dict[str, Any] = body["data"]
    return data


async def dashboard(http: httpx.AsyncClient, url: str, tally: Tally, tenant: Tenant) -> None:
    data = await post(http, url, tally, tenant, DASHBOARD, dashboard_query())
    if data is None:
        return
    try:
        ids = dashboard_ids(data)
    except (KeyError, TypeError) as exc:
        tally.error(f"{DASHBOARD} ({tenant.label}): unexpected answer shape: {exc!r}")
        return
    tally.check(tenant, (DASHBOARD, 0, tenant.label), ids)


async def walk(http: httpx.AsyncClient, url: str, tally: Tally, tenant: Tenant) -> int:
    """Up to WALK_PAGES pages; returns how many pages answered."""
    started = time.perf_counter()
    after: str | None = None
    for page in range(WALK_PAGES):
        data = await post(http, url, tally, tenant, PAGE, TRANSACTIONS_PAGE, {"after": after})
        if data is None:
            return page
        try:
            ids = page_ids(data)
            info = data["transactions"]["pageInfo"]
            more, after = bool(info["hasNextPage"]), info["endCursor"]
        except (KeyError, TypeError) as exc:
            tally.error(f"{PAGE} ({tenant.label}): unexpected answer shape: {exc!r}")
            return page
        tally.check(tenant, (PAGE, page, tenant.label), ids)
        if not more:
            break
    if tally.recording:
        tally.latencies_ms[WALK].append((time.perf_counter() - started) * 1000)
    return page + 1


@cache
def dashboard_query() -> str:
    examples: list[str] = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return next(example for example in examples if "query Dashboard" in example)


def upstream_calls(emulator: RunningEmulator) -> int:
    return sum(emulator.state.counters.values())


def proc_status_kib(name: str) -> int | None:
    """A `kB` line of /proc/self/status (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{name}:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank of an ascending list."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- the run -------------------------------------------------------------------------------


async def warm_up(
    http: httpx.AsyncClient,
    url: str,
    tally: Tally,
    emulator: RunningEmulator,
    tenants: list[Tenant],
) -> dict[str, float]:
    """One job of each shape per tenant, one at a time: the reference answers, and the
    upstream calls each shape costs alone (mean of the two tenants)."""
    calls: dict[str, list[int]] = {DASHBOARD: [], PAGE: []}
    for tenant in tenants:
        before = upstream_calls(emulator)
        await dashboard(http, url, tally, tenant)
        calls[DASHBOARD].append(upstream_calls(emulator) - before)
        before = upstream_calls(emulator)
        pages = await walk(http, url, tally, tenant)
        calls[PAGE].append((upstream_calls(emulator) - before) // max(pages, 1))
        print(
            f"warm-up, tenant {tenant.label}: {DASHBOARD} {calls[DASHBOARD][-1]} upstream calls;"
            f" walk of {pages} pages, {calls[PAGE][-1]} upstream calls a page"
        )
    return {shape: sum(counts) / len(counts) for shape, counts in calls.items()}


async def watch(
    emulator: RunningEmulator, tally: Tally, started: float, stop: asyncio.Event, until: float
) -> None:
    """Print progress now and then until `stop` (or `until`, whichever first). Also empties
    the emulator's request log, a test aid that would otherwise grow with every call and
    pass for a leak in the RSS."""
    while time.monotonic() < until:
        emulator.state.requests.clear()
        try:
            await asyncio.wait_for(stop.wait(), timeout=PROGRESS_EVERY_S)
        except TimeoutError:
            print(
                f"  t={time.monotonic() - started:5.1f} s  requests {tally.requests:6d}  "
                f"errors {tally.errors}  leaks {tally.leaks}  RSS {mib(proc_status_kib('VmRSS'))}",
                flush=True,
            )
        else:
            return


async def client(
    http: httpx.AsyncClient,
    url: str,
    tally: Tally,
    tenants: list[Tenant],
    jobs: Iterator[int],
    deadline: float,
    max_jobs: int,
) -> None:
    """Take job numbers until the deadline: n % 2 picks the tenant, n // 2 % 2 the shape."""
    for n in jobs:
        if n >= max_jobs or time.monotonic() >= deadline:
            return
        tenant = tenants[n % 2]
        if n // 2 % 2 == 0:
            await dashboard(http, url, tally, tenant)
        else:
            await walk(http, url, tally, tenant)


async def main(options: Options | None = None) -> bool:
    """Run the load; False when any error, leak or mismatch was seen."""
    options = options or Options()
    tally = Tally()
    async with running_emulator() as emulator:
        emulator.state.latency_ms = options.latency_ms
        tenants = [
            tenant_of(emulator, "A", emulator.tenant_a, emulator.token_a),
            tenant_of(emulator, "B", emulator.tenant_b, emulator.token_b),
        ]
        a, b = (tenant.visible["location"] for tenant in tenants)
        settings = replace(Settings(upstream_url=emulator.url), cursor_secret="bench")
        limits = httpx.Limits(
            max_connections=options.concurrency, max_keepalive_connections=options.concurrency
        )
        async with (
            serving(create_app(settings)) as url,
            httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as http,
        ):
            print(
                f"one process (pid {os.getpid()}), one event loop: the gateway, the emulator "
                f"and the {options.concurrency} clients share a core; RSS counts all three"
            )
            print(
                f"emulator latency {options.latency_ms} ms a call, page size "
                f"{emulator.state.page_size}; tenant A sees {len(a)} locations, B {len(b)}, "
                f"{len(a & b)} shared"
            )
            gc.collect()
            rss_booted = proc_status_kib("VmRSS")
            per_shape = await warm_up(http, url, tally, emulator, tenants)
            gc.collect()
            rss_start, objects_start = proc_status_kib("VmRSS"), len(gc.get_objects())

            tally.recording = True
            emulator.state.requests.clear()
            calls_before = upstream_calls(emulator)
            print(f"running {options.seconds:g} s with {options.concurrency} clients", flush=True)
            started, cpu_before = time.monotonic(), time.process_time()
            deadline = started + options.seconds
            max_jobs = math.ceil(options.seconds * options.concurrency * MAX_JOBS_PER_CLIENT_SECOND)
            jobs = itertools.count()
            stop = asyncio.Event()
            watcher = asyncio.create_task(watch(emulator, tally, started, stop, deadline + DRAIN_S))
            drained = True
            try:
                async with asyncio.timeout(options.seconds + DRAIN_S):
                    await asyncio.gather(
                        *(
                            client(http, url, tally, tenants, jobs, deadline, max_jobs)
                            for _ in range(options.concurrency)
                        )
                    )
            except TimeoutError:
                drained = False
            finally:
                stop.set()
                await watcher
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_before
            tally.recording = False
            calls = upstream_calls(emulator) - calls_before
            emulator.state.requests.clear()
            gc.collect()
            rss_end, objects_end = proc_status_kib("VmRSS"), len(gc.get_objects())
            rss_peak = proc_status_kib("VmHWM")

    ok = report(tally, elapsed, cpu, calls, per_shape, drained)
    growth = "" if rss_start is None or rss_end is None else f" ({rss_end - rss_start:+d} KiB)"
    print(
        f"RSS (whole process): {mib(rss_booted)} after start-up, {mib(rss_start)} after the "
        f"warm-up, {mib(rss_end)} at the end{growth}; peak {mib(rss_peak)}"
    )
    print(f"gc-tracked objects: {objects_start} after the warm-up, {objects_end} at the end")
    return ok


def report(
    tally: Tally,
    elapsed: float,
    cpu: float,
    calls: int,
    per_shape: dict[str, float],
    drained: bool,
) -> bool:
    lat = tally.latencies_ms
    print(
        f"requests completed {tally.requests} in {elapsed:.1f} s: "
        f"{tally.requests / elapsed:.1f} requests/s "
        f"({len(lat[DASHBOARD])} {DASHBOARD}, {len(lat[PAGE])} pages in {len(lat[WALK])} walks)"
    )
    if not drained:
        print(f"  clients still busy {DRAIN_S:g} s after the deadline were cancelled")
    print(f"  {'latency, ms':20} {'count':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for shape in (DASHBOARD, PAGE, WALK):
        ordered = sorted(lat[shape])
        if not ordered:
            print(f"  {shape:20} {0:6d}")
            continue
        cells = " ".join(f"{percentile(ordered, p):7.1f}" for p in (50, 95, 99, 100))
        print(f"  {shape:20} {len(ordered):6d} {cells}")
    if tally.requests:
        expected = (
            len(lat[DASHBOARD]) * per_shape[DASHBOARD] + len(lat[PAGE]) * per_shape[PAGE]
        ) / tally.requests
        print(
            f"upstream calls per request: {calls / tally.requests:.2f} "
            f"({calls} calls; {expected:.2f} if each cost what it did alone in the warm-up)"
        )
    print(
        f"CPU: {cpu:.1f} s of process time in {elapsed:.1f} s ({cpu / elapsed:.0%} of one core;"
        " near 100% means the numbers measure the shared core, not the upstream latency)"
    )
    print(f"errors: {tally.errors}")
    for sample in tally.error_samples:
        print(f"  {sample}")
    print(
        f"cross-tenant leaks: {tally.leaks} foreign ids in {tally.ids_checked} checked "
        f"(locations, stations, transactions); {tally.mismatches} answers differ from the "
        "tenant's own warm-up answer"
    )
    for sample in tally.leak_samples:
        print(f"  {sample}")
    return drained and tally.errors == 0 and tally.leaks == 0 and tally.mismatches == 0
