"""`python -m bench scale [--quick]`: the dashboard over two replicas, response cache off and on.

    emulator (20 ms a call) <-- replica A, replica B (one Redis) <-- wrk, one thread each

The emulator (`python -m gateway emulator --latency-ms 20 --page-size 50 --admin`), a
throwaway `redis-server` and two `python -m gateway serve` replicas on it, all on loopback.
The load is the side-by-side dashboard query (S4: `networkSummary` plus locations >
stations > EVSE status) for the three demo tenants in turn (each its own token and its own
view of the network), from one `wrk -t2`: one thread per replica, half the connections
each. Per cell (cache off or on, c connections in all): requests/s, p50/p99, upstream calls
per request counted at the emulator, the cache's hit ratio summed over both replicas'
`/metrics` (hits / (hits + misses)), the replicas' CPU per request, errors, and the answers
checked against the emulator's REST data per tenant and replica before and after the load.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench.fleet import Replica, fleet_cache_counts, parse_env, running_redis, running_replicas
from bench.side_by_side.check import run_unit
from bench.side_by_side.emulator import SEED, Emulator, Reference, running_emulator
from bench.side_by_side.loadgen import (
    TIMEOUT_S,
    _lua_string,
    lua_done,
    lua_note_bad_body,
    parse_wrk,
)
from bench.side_by_side.options import concurrency_from
from bench.side_by_side.processes import (
    DRIVER_CORE,
    GATEWAY_CORE,
    Service,
    can_pin,
    group_usage,
    pin_self,
    pinned,
    restore_affinity,
)
from bench.side_by_side.report import RESULTS, at_start, machine
from bench.side_by_side.scenarios import Scenario, all_scenarios
from gateway.emulator import EmulatorConfig, EmulatorState

SPLIT = "BENCH_SPLIT "  # wrk's line with the answers each replica gave
MODES = ("off", "on")


@dataclass(frozen=True)
class Options:
    quick: bool = False
    seconds: float = 10.0
    warmup_seconds: float = 2.0
    concurrency: tuple[int, ...] = (16, 64)
    """Connections in all, half on each replica."""
    latency_ms: int = 20
    page_size: int = 50
    pin: bool = True
    env: tuple[tuple[str, str], ...] = ()
    """Extra settings for both replicas."""


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench scale",
        description="The dashboard over two gateway replicas on one Redis, response cache "
        "off and on.",
    )
    parser.add_argument("--quick", action="store_true", help="c=16 only, 3 s cells, no warm-up")
    parser.add_argument("--seconds", type=float, help="seconds per cell (full 10, quick 3)")
    parser.add_argument("--warmup-seconds", type=float, help="unmeasured load (full 2, quick 0)")
    parser.add_argument("--concurrency", help="comma-separated totals (full 16,64; quick 16)")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for both replicas (repeatable)"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (3.0 if args.quick else 10.0)
    warmup = args.warmup_seconds
    if warmup is None:
        warmup = 0.0 if args.quick else 2.0
    concurrency = concurrency_from(parser, args.concurrency, (16,) if args.quick else (16, 64))
    if any(c < 2 or c % 2 for c in concurrency):
        parser.error("--concurrency values must be even (half on each replica) and >= 2")
    if not 0 < seconds <= 300 or not 0 <= warmup <= 300:
        parser.error("--seconds must be in (0, 300], --warmup-seconds in [0, 300]")
    try:
        env = tuple(parse_env(args.env).items())
    except ValueError as exc:
        parser.error(str(exc))
    return Options(
        args.quick, seconds, warmup, concurrency, args.latency_ms, args.page_size,
        not args.no_pin, env,
    )  # fmt: skip


@dataclass
class Cell:
    cache: str
    concurrency: int
    requests: int = 0
    seconds: float = 0.0
    per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    calls_per_request: float = 0.0
    hits: float = 0.0
    misses: float = 0.0
    hit_ratio: float | None = None
    cpu_ms_per_request: float = 0.0
    """Both replicas' CPU time over the cell (until idle), per request."""
    emulator_cpu_pct: float = 0.0
    errors: int = 0
    split: dict[str, int] = field(default_factory=dict)
    """Answers per replica."""
    note: str = ""


@dataclass(frozen=True)
class Tenant:
    id: str
    role: str
    token: str
    reference: Reference


def tenants(emulator: Emulator) -> list[Tenant]:
    """Every demo tenant with an access token (refresh tokens derive from the seed, so
    an in-process state of the same seed knows them) and its REST view of the network."""
    state = EmulatorState(EmulatorConfig(seed=SEED))
    found = []
    for tenant in state.tenants:
        response = emulator.http.get(
            "/auth/refreshAccessToken",
            headers={"Authorization": f"Bearer {state.refresh_tokens[tenant.id]}"},
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        found.append(Tenant(tenant.id, tenant.role_hint, token, emulator.reference(token)))
    return found


def wrk_script(pairs: Sequence[tuple[str, str]], ports: Sequence[int]) -> str:
    """A wrk script: thread i connects to replica i (`thread.addr`), every thread sends the
    (body, token) pairs in turn; prints the result line, the first bad body and the split."""
    bodies = ",\n  ".join(_lua_string(body) for body, _ in pairs)
    auths = ",\n  ".join(_lua_string(f"Bearer {token}") for _, token in pairs)
    port_list = ", ".join(f'"{port}"' for port in ports)
    per_thread = (
        '    table.insert(split, string.format(\'"%d":%d\', thread:get("replica"),'
        ' thread:get("answered")))\n'
    )
    before_result = f'  io.write("{SPLIT}{{" .. table.concat(split, ",") .. "}}\\n")\n'
    return f"""-- generated by bench/scale.py
local bodies = {{
  {bodies}
}}
local auths = {{
  {auths}
}}
local ports = {{ {port_list} }}
local threads = {{}}
local split = {{}} -- answers per replica, filled by done()
local started = 0
local next_body = 0
bad = 0
sample = nil
answered = 0
replica = 0

function setup(thread)
  started = started + 1
  local which = (started - 1) % #ports + 1
  thread.addr = wrk.lookup("127.0.0.1", ports[which])[1]
  thread:set("replica", which)
  table.insert(threads, thread)
end

function request()
  next_body = next_body % #bodies + 1
  local headers = {{ ["Content-Type"] = "application/json", ["Authorization"] = auths[next_body] }}
  return wrk.format("POST", "/graphql", headers, bodies[next_body])
end

function response(status, response_headers, body)
  answered = answered + 1
{lua_note_bad_body(('"errors"',))}
end

{lua_done(per_thread, before_result)}
"""


def parse_split(output: str, names: Sequence[str]) -> dict[str, int]:
    """Answers per replica from the script's split line ({"1": n, "2": m}), by name."""
    for line in output.splitlines():
        if line.startswith(SPLIT):
            raw: dict[str, int] = json.loads(line[len(SPLIT) :])
            split = {name: 0 for name in names}
            for index, count in raw.items():
                split[names[int(index) - 1]] += int(count)
            return split
    raise RuntimeError(f"wrk printed no split line:\n{output[-2000:]}")


def run_wrk(
    script: str, replicas: Sequence[Replica], connections: int, seconds: float, core: int | None
) -> tuple[Any, dict[str, int]]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        path = Path(scratch) / "dashboard.lua"
        path.write_text(script)
        output = Path(scratch) / "out.txt"
        threads = len(replicas)
        command = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            f"--timeout={TIMEOUT_S}s", "-s", str(path), f"{replicas[0].url}/graphql",
        ]  # fmt: skip
        with Service("wrk", pinned(command, core), log=output) as service:
            assert service.process is not None
            service.process.wait(timeout=seconds + TIMEOUT_S + 30)
        text = output.read_text(errors="replace")
    return parse_wrk(text), parse_split(text, [r.name for r in replicas])


def scrape(http: httpx.Client, replicas: Sequence[Replica]) -> list[str]:
    return [http.get(f"{replica.url}/metrics").text for replica in replicas]


def cpu_s(replicas: Sequence[Replica]) -> float:
    return sum(group_usage(replica.service.pid).cpu_s for replica in replicas)


def quiesce(replicas: Sequence[Replica], emulator: Emulator, timeout_s: float = 60.0) -> None:
    """Until the replicas burn no CPU and the emulator sees no call: the requests in flight
    when wrk stopped have finished, and their calls are counted."""
    deadline = time.monotonic() + timeout_s
    last = cpu_s(replicas)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_s(replicas)
        if now - last < 0.02:
            break
        last = now
    emulator.settle()


def check_answers(
    http: httpx.Client,
    replicas: Sequence[Replica],
    people: Sequence[Tenant],
    scenario: Scenario,
    emulator: Emulator,
) -> tuple[list[str], dict[str, int]]:
    """Every tenant's dashboard from each replica in turn (A first), checked against its
    REST data; returns the problems and the upstream calls of each (tenant, replica)."""
    problems: list[str] = []
    calls: dict[str, int] = {}
    for tenant in people:
        for replica in replicas:
            emulator.settle()
            emulator.reset()
            checked = run_unit(
                http, f"{replica.url}/graphql", tenant.token, scenario, scenario.ours,
                tenant.reference,
            )  # fmt: skip
            calls[f"{tenant.role}@{replica.name}"] = emulator.counters()
            if checked.problem is not None:
                problems.append(f"{tenant.role} on replica {replica.name}: {checked.problem}")
    return problems, calls


def measure(
    options: Options,
    mode: str,
    connections: int,
    script: str,
    replicas: Sequence[Replica],
    emulator: Emulator,
    http: httpx.Client,
    driver_core: int | None,
) -> Cell:
    cell = Cell(mode, connections)
    if options.warmup_seconds > 0:
        run_wrk(script, replicas, connections, options.warmup_seconds, driver_core)
        quiesce(replicas, emulator)
    emulator.reset()
    before_metrics = scrape(http, replicas)
    before_cpu = cpu_s(replicas)
    emulator_before = group_usage(emulator.service.pid).cpu_s
    result, split = run_wrk(script, replicas, connections, options.seconds, driver_core)
    emulator_after = group_usage(emulator.service.pid).cpu_s
    quiesce(replicas, emulator)
    after_cpu = cpu_s(replicas)
    calls = emulator.counters()
    counts = fleet_cache_counts(before_metrics, scrape(http, replicas))
    charged = result.requests + connections  # those in flight at the stop made their calls
    cell.requests, cell.seconds = result.requests, result.seconds
    cell.per_second = result.per_second
    cell.p50_ms, cell.p99_ms = result.p50_ms, result.p99_ms
    cell.calls_per_request = calls / charged
    cell.hits, cell.misses, cell.hit_ratio = counts.hits, counts.misses, counts.ratio
    cell.cpu_ms_per_request = 1000 * (after_cpu - before_cpu) / charged
    if result.seconds:
        cell.emulator_cpu_pct = 100 * (emulator_after - emulator_before) / result.seconds
    cell.errors = result.errors
    cell.split = split
    if result.bad_sample:
        cell.note = f"first bad body: {result.bad_sample}"
    for replica in replicas:
        if not replica.service.running():
            cell.note = f"replica {replica.name} exited during the cell"
    return cell


COLUMNS = (
    "cache", "c", "req/s", "p50 ms", "p99 ms", "calls/req", "hit ratio", "hits / misses",
    "CPU ms/req", "emulator CPU %", "errors", "answers A / B",
)  # fmt: skip


def row(cell: Cell) -> list[str]:
    ratio = "n/a" if cell.hit_ratio is None else f"{100 * cell.hit_ratio:.1f} %"
    split = " / ".join(str(cell.split.get(name, 0)) for name in ("A", "B"))
    return [
        cell.cache, str(cell.concurrency), f"{cell.per_second:.1f}", f"{cell.p50_ms:.1f}",
        f"{cell.p99_ms:.1f}", f"{cell.calls_per_request:.2f}", ratio,
        f"{cell.hits:.0f} / {cell.misses:.0f}", f"{cell.cpu_ms_per_request:.2f}",
        f"{cell.emulator_cpu_pct:.0f}", str(cell.errors), split,
    ]  # fmt: skip


def progress(cell: Cell) -> str:
    return "  ".join(f"{k} {v}" for k, v in zip(COLUMNS, row(cell), strict=True))


def table(cells: Sequence[Cell]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(cell)) + " |" for cell in cells]
    return "\n".join(lines)


def run(options: Options) -> bool:
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        return _run(options)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(options: Options) -> bool:
    if shutil.which("wrk") is None:
        print("scale needs wrk (apt-get install wrk; `make bench` installs it as root)")
        return False
    started = at_start()
    pin = options.pin and can_pin()
    gateway_core, driver_core = (GATEWAY_CORE, DRIVER_CORE) if pin else (None, None)
    scenario = next(s for s in all_scenarios(options.page_size) if s.name == "S4")
    logs = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    previous_affinity = pin_self(driver_core)
    cells: list[Cell] = []
    checks: dict[str, Any] = {}
    problems: list[str] = []
    try:
        with (
            running_emulator(options.latency_ms, options.page_size, driver_core) as emulator,
            running_redis(driver_core) as redis_url,
            httpx.Client(timeout=60.0) as http,
        ):
            people = tenants(emulator)
            views = ", ".join(f"{t.role} {len(t.reference.locations)}" for t in people)
            print(
                f"emulator {emulator.url}: latency {options.latency_ms} ms, page size "
                f"{options.page_size}; Redis {redis_url}; tenants (locations seen): {views}; "
                f"pinning {'replicas core 0, the rest core 1' if pin else 'off'}",
                flush=True,
            )
            pairs = [
                (json.dumps({"query": scenario.ours.query, "variables": {}}), t.token)
                for t in people
            ]
            for mode in MODES:
                env = {
                    "GATEWAY_RESPONSE_CACHE": "true" if mode == "on" else "false",
                    "GATEWAY_REDIS_KEY_PREFIX": f"bench-scale-{mode}:",
                    **dict(options.env),
                }
                upstream = [emulator.url, emulator.url]
                with running_replicas(upstream, redis_url, env, gateway_core, logs) as replicas:
                    script = wrk_script(pairs, [r.port for r in replicas])
                    found, calls = check_answers(http, replicas, people, scenario, emulator)
                    checks[f"cache {mode}, before the load: upstream calls alone"] = calls
                    problems += [f"cache {mode}, before: {p}" for p in found]
                    print(f"cache {mode}: calls of one dashboard alone, tenant@replica: {calls}")
                    for connections in options.concurrency:
                        cell = measure(
                            options, mode, connections, script, replicas, emulator, http,
                            driver_core,
                        )  # fmt: skip
                        cells.append(cell)
                        print("  " + progress(cell), flush=True)
                    found, calls = check_answers(http, replicas, people, scenario, emulator)
                    checks[f"cache {mode}, after the load: upstream calls alone"] = calls
                    problems += [f"cache {mode}, after: {p}" for p in found]
    finally:
        restore_affinity(previous_affinity)
        shutil.rmtree(logs, ignore_errors=True)
    info = machine(
        started,
        {
            "load_generator": wrk_version(),
            "pinning": "replicas on core 0; emulator, Redis, wrk, runner on core 1"
            if pin
            else "none",
            "emulator": f"latency {options.latency_ms} ms, page size {options.page_size}",
            "seconds_per_cell": options.seconds,
            "warmup_seconds": options.warmup_seconds,
            "extra_env": dict(options.env),
        },
    )
    markdown = document(cells, info, checks, problems)
    name = "scale-quick" if options.quick else "scale-latest"
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": info, "cells": [asdict(c) for c in cells], "checks": checks}
    data["problems"] = problems
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown + "\n")
    print()
    print(markdown)
    print(f"\nwritten: {RESULTS / name}.md and .json")
    return not problems and not any(cell.errors or cell.note for cell in cells)


def wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (result.stdout or result.stderr).splitlines()[0].strip()


def document(
    cells: Sequence[Cell], info: dict[str, Any], checks: dict[str, Any], problems: list[str]
) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in info.items())
    check_lines = "\n".join(f"- {key}: {value}" for key, value in checks.items())
    verdict = (
        "every tenant's dashboard from each replica matched the emulator's REST data, "
        "before and after the load, cache off and on"
        if not problems
        else "PROBLEMS:\n" + "\n".join(f"- {p}" for p in problems)
    )
    return (
        "# Scale-out: the dashboard over two replicas on one Redis, response cache off and on\n\n"
        f"{facts}\n\n{table(cells)}\n\n"
        "c: connections in all, half on each replica (one wrk thread each). req/s: answers "
        "per second of wrk's run. calls/req: upstream calls counted at the emulator over the "
        "cell (until the replicas are idle) / (answers + the c requests in flight at the "
        "stop). hit ratio: gateway_response_cache_total hits / (hits + misses) over the "
        "cell, summed over both replicas' /metrics (the cache holds the location reads; "
        "the network status walk behind networkSummary and EVSE status is never cached). "
        "CPU ms/req: both replicas' CPU time, same divisor. errors: non-2xx, socket errors "
        "and timeouts, 2xx bodies with GraphQL errors.\n\n"
        f"Answers: {verdict}.\n\n"
        "Upstream calls of one dashboard sent alone, per tenant@replica, replica A asked "
        "first (with the cache on, B's first read of a tenant is served from what A put in "
        "Redis):\n\n"
        f"{check_lines}"
    )


async def main(options: Options | None = None) -> bool:
    # Blocking by design (child processes and their clocks), like side-by-side.
    return run(options or Options())
