"""The run: one emulator, then each gateway in turn, every scenario and concurrency.

    emulator (core 1) <-- gateway under test (core 0) <-- load generator (core 1)

The emulator stays up for the whole run, so both gateways see the same data, the same
latency and the same tokens. Only one gateway runs at a time. Every child is in its own
process group and is ended when its block is left, also on Ctrl-C.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType

import httpx

from bench.side_by_side import gateways, loadgen
from bench.side_by_side.check import run_unit
from bench.side_by_side.emulator import Emulator, Reference, running_emulator
from bench.side_by_side.options import Options
from bench.side_by_side.processes import (
    DRIVER_CORE,
    GATEWAY_CORE,
    can_pin,
    group_usage,
    pin_self,
    restore_affinity,
)
from bench.side_by_side.report import Cell, at_start, document, machine, write
from bench.side_by_side.scenarios import Document, Scenario, all_scenarios

Starter = Callable[[str, int | None, Path], AbstractContextManager[gateways.Gateway]]
STARTERS: dict[str, Starter] = {"ours": gateways.running_ours, "peer": gateways.running_peer}


def select(scenarios: list[Scenario], names: tuple[str, ...] | None) -> list[Scenario]:
    if names is None:
        return scenarios
    known = {s.name for s in scenarios}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [s for s in scenarios if s.name in names]


def run(options: Options) -> bool:
    """The whole matrix; False when any check failed or our gateway answered an error."""
    # SIGTERM (a `kill`, a CI timeout) would end Python without running `finally`, and
    # leave the emulator and a gateway behind: turn it into an exception while running.
    # Ctrl-C likewise: asyncio.run's own SIGINT handler only cancels the task at its next
    # await, and this run never awaits, so the plain KeyboardInterrupt is put back.
    previous_term = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(options)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if previous_int is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous_int)


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(options: Options) -> bool:
    started = at_start()
    tool = loadgen.choose_tool(options.tool)
    if "peer" in options.gateways or tool == "autocannon":
        gateways.ensure_peer_installed()
    scenarios = select(all_scenarios(options.page_size), options.scenarios)
    pin = options.pin and can_pin()
    gateway_core, driver_core = (GATEWAY_CORE, DRIVER_CORE) if pin else (None, None)
    logs = Path(tempfile.mkdtemp(prefix="bench-side-by-side-"))
    previous_affinity = pin_self(driver_core)
    cells: list[Cell] = []
    versions: dict[str, dict[str, str]] = {}
    try:
        with running_emulator(options.latency_ms, options.page_size, driver_core) as emulator:
            token = emulator.access_token()
            reference = emulator.reference(token)
            print(
                f"emulator {emulator.url}: latency {options.latency_ms} ms, page size "
                f"{options.page_size}; the CPO tenant sees {len(reference.locations)} "
                f"locations; load generator {tool}; pinning "
                f"{'gateway core 0, the rest core 1' if pin else 'off'}",
                flush=True,
            )
            for name in options.gateways:
                with (
                    STARTERS[name](emulator.url, gateway_core, logs) as gateway,
                    httpx.Client(timeout=60.0) as http,
                ):
                    versions[name] = gateway.versions
                    for cell in gateway_cells(
                        options, tool, scenarios, emulator, reference, token, gateway, http,
                        driver_core,
                    ):  # fmt: skip
                        cells.append(cell)
                        print(progress(cell), flush=True)
    finally:
        restore_affinity(previous_affinity)
        shutil.rmtree(logs, ignore_errors=True)

    info = machine(
        started,
        {
            "load_generator": loadgen.tool_version(tool),
            "pinning": "gateway on core 0; emulator, load generator, runner on core 1"
            if pin
            else "none",
            "emulator": f"latency {options.latency_ms} ms, page size {options.page_size}",
            "seconds_per_cell": options.seconds,
            "warmup_seconds": options.warmup_seconds,
            "ours": versions.get("ours", gateways.our_versions()),
            "peer": versions.get("peer", {}),
        },
    )
    markdown = document(cells, info, [(s.name, s.title) for s in scenarios])
    path = write("quick" if options.quick else "latest", cells, info, markdown)
    print()
    print(markdown)
    print(f"\nwritten: {path} and {path.with_suffix('.json')}")
    peer_errors = sum(cell.errors or 0 for cell in cells if cell.gateway == "peer")
    if peer_errors:
        print(f"note: the peer answered {peer_errors} error(s) under load (see the cells' notes)")
    # A wrong answer (from either side) means the comparison is void; an error under load
    # is a finding about the peer, and a failure only for ours.
    return all(cell.status in ("ok", "n/a") for cell in cells) and not any(
        cell.errors for cell in cells if cell.gateway == "ours"
    )


def gateway_cells(
    options: Options,
    tool: str,
    scenarios: list[Scenario],
    emulator: Emulator,
    reference: Reference,
    token: str,
    gateway: gateways.Gateway,
    http: httpx.Client,
    driver_core: int | None,
) -> Iterator[Cell]:
    for scenario in scenarios:
        doc = scenario.ours if gateway.name == "ours" else scenario.peer
        concurrencies = scenario.concurrency or options.concurrency
        if doc is None:
            for c in concurrencies:
                yield Cell(scenario.name, scenario.title, gateway.name, c, "n/a", scenario.peer_na)
            continue
        warm = options.warmup_seconds == 0
        for c in concurrencies:
            cell = measure(
                options, tool, scenario, doc, emulator, reference, token, gateway, http, c,
                warm, driver_core,
            )  # fmt: skip
            warm = True
            yield cell


def measure(
    options: Options,
    tool: str,
    scenario: Scenario,
    doc: Document,
    emulator: Emulator,
    reference: Reference,
    token: str,
    gateway: gateways.Gateway,
    http: httpx.Client,
    concurrency: int,
    warm: bool,
    driver_core: int | None,
) -> Cell:
    cell = Cell(
        scenario.name, scenario.title, gateway.name, concurrency, "ok", pages=scenario.pages
    )
    # The check: one unit alone, its upstream calls counted from a reset. It is sent twice
    # and the second is measured, so a cold start (query planning, pools) is not counted.
    emulator.settle()
    run_unit(http, gateway.url, token, scenario, doc, reference)
    emulator.reset()
    checked = run_unit(http, gateway.url, token, scenario, doc, reference)
    cell.calls_alone = emulator.counters()
    cell.alone_ms = checked.alone_ms
    if checked.problem is not None:
        cell.status, cell.note = "wrong", checked.problem
        return cell
    if not warm:
        loadgen.run_load(
            tool, gateway.url, token, checked.bodies, concurrency, options.warmup_seconds,
            driver_core,
        )  # fmt: skip
        emulator.settle()
    emulator.reset()
    before = group_usage(gateway.service.pid)
    emulator_before = group_usage(emulator.service.pid)
    result = loadgen.run_load(
        tool, gateway.url, token, checked.bodies, concurrency, options.seconds, driver_core
    )
    emulator_after = group_usage(emulator.service.pid)
    # When the load stops, about `concurrency` requests are in flight: their upstream
    # calls are mostly made (they come first), and both gateways finish such requests
    # after the client has gone. So the costs are read once the gateway is idle again,
    # and charged to the completed units plus those in flight.
    quiesce(gateway, emulator)
    after = group_usage(gateway.service.pid)
    calls = emulator.counters()
    units = result.requests / scenario.pages
    charged = (result.requests + concurrency) / scenario.pages
    cell.requests = result.requests
    cell.units_per_s = units / result.seconds if result.seconds else None
    cell.p50_ms, cell.p99_ms = result.p50_ms, result.p99_ms
    cell.calls_per_unit = calls / charged
    cell.cpu_ms_per_unit = (after.cpu_s - before.cpu_s) * 1000 / charged
    cell.rss_mib = after.rss_kib / 1024
    if result.seconds:
        # Near 100 %, the emulator (one Python process) is the bottleneck of the cell,
        # for whichever gateway is measured.
        busy = (emulator_after.cpu_s - emulator_before.cpu_s) / result.seconds
        cell.emulator_cpu_pct = 100 * busy
    cell.errors = result.errors
    cell.error_detail = {
        "non_2xx": result.non_2xx,
        "socket_errors": result.socket_errors,
        "bad_bodies": result.bad_bodies,
    }
    if result.bad_sample:
        cell.note = f"first bad body: {result.bad_sample}"
    if not gateway.service.running():
        cell.status, cell.note = "failed", "the gateway exited during the cell"
    return cell


IDLE_CPU_S = 0.02  # less CPU than this in one interval: the gateway is idle
IDLE_INTERVAL_S = 0.25
IDLE_TIMEOUT_S = 60.0


def quiesce(gateway: gateways.Gateway, emulator: Emulator) -> None:
    """Until the gateway burns no CPU and the emulator sees no call, so the requests that
    were in flight when the load stopped have finished (or the timeout ran out)."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    last = group_usage(gateway.service.pid).cpu_s
    while time.monotonic() < deadline:
        time.sleep(IDLE_INTERVAL_S)
        now = group_usage(gateway.service.pid).cpu_s
        if now - last < IDLE_CPU_S:
            break
        last = now
    emulator.settle()


def progress(cell: Cell) -> str:
    if cell.status != "ok":
        return f"  {cell.scenario} c={cell.concurrency:<3d} {cell.gateway:4}  {cell.status}"
    return (
        f"  {cell.scenario} c={cell.concurrency:<3d} {cell.gateway:4}  "
        f"{cell.units_per_s or 0:8.1f} units/s  p50 {cell.p50_ms or 0:7.1f} ms  "
        f"p99 {cell.p99_ms or 0:7.1f} ms  calls {cell.calls_alone} alone, "
        f"{cell.calls_per_unit or 0:.2f}/unit  CPU {cell.cpu_ms_per_unit or 0:.2f} ms/unit  "
        f"errors {cell.errors}"
    )
