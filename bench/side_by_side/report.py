"""The side-by-side table: one row per gateway and cell, then the ratio ours/peer.

Written to bench/results/ as JSON (every number, the machine and the versions) and as
markdown (the table), and printed.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "results"


@dataclass
class Cell:
    """One scenario, one gateway, one concurrency."""

    scenario: str
    title: str
    gateway: str
    concurrency: int
    status: str
    """ok, n/a (the gateway cannot express it), wrong (the check failed) or failed."""
    note: str = ""
    pages: int = 1
    units_per_s: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    alone_ms: float | None = None
    calls_alone: int | None = None
    """Upstream calls of one unit sent alone."""
    calls_per_unit: float | None = None
    """Upstream calls per unit under load."""
    cpu_ms_per_unit: float | None = None
    rss_mib: float | None = None
    emulator_cpu_pct: float | None = None
    """The emulator's CPU time during the cell, in % of one core."""
    requests: int | None = None
    errors: int | None = None
    error_detail: dict[str, int] = field(default_factory=dict)


# (Cell attribute, column header, format)
METRICS: tuple[tuple[str, str, str], ...] = (
    ("units_per_s", "units/s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p99_ms", "p99 ms", "{:.1f}"),
    ("alone_ms", "alone ms", "{:.1f}"),
    ("calls_alone", "calls alone", "{:d}"),
    ("calls_per_unit", "calls/unit", "{:.2f}"),
    ("cpu_ms_per_unit", "CPU ms/unit", "{:.2f}"),
    ("rss_mib", "RSS MiB", "{:.0f}"),
    ("errors", "errors", "{:d}"),
    ("emulator_cpu_pct", "emulator CPU %", "{:.0f}"),
)


def at_start() -> dict[str, Any]:
    """When the run started and how busy the machine was then (other work shares it)."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine(started: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        **started,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
    }
    info.update(extra)
    return info


def ratio(ours: float | int | None, peer: float | int | None) -> str:
    if ours is None or peer is None:
        return "n/a"
    if peer == 0:
        return "=" if ours == 0 else "inf"
    return f"{ours / peer:.2f}x"


def _fmt(cell: Cell, key: str, pattern: str) -> str:
    value = getattr(cell, key)
    return "" if value is None else pattern.format(value)


def table(cells: list[Cell]) -> str:
    """Markdown: per (scenario, concurrency) a row per gateway, then ours/peer."""
    header = ["scenario", "c", "gateway", *(title for _, title, _ in METRICS), "check"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    groups: dict[tuple[str, int], dict[str, Cell]] = {}
    for cell in cells:
        groups.setdefault((cell.scenario, cell.concurrency), {})[cell.gateway] = cell
    for (scenario, concurrency), by_gateway in groups.items():
        for gateway in ("ours", "peer"):
            cell = by_gateway.get(gateway)
            if cell is None:
                continue
            values = [_fmt(cell, key, pattern) for key, _, pattern in METRICS]
            check = cell.status if not cell.note else f"{cell.status}: {cell.note}"
            row = [scenario, str(concurrency), gateway, *values, check]
            lines.append("| " + " | ".join(row) + " |")
        ours, peer = by_gateway.get("ours"), by_gateway.get("peer")
        if ours and peer and ours.status == "ok" and peer.status == "ok":
            values = [ratio(getattr(ours, key), getattr(peer, key)) for key, _, _ in METRICS]
            row = [scenario, str(concurrency), "ours/peer", *values, ""]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def legend(scenarios: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"- **{name}** {title}" for name, title in scenarios)
    return (
        f"{rows}\n\n"
        "A unit is one request, or one whole walk for S6 (3 requests). units/s: units "
        "completed per second under closed-loop load with c connections. p50/p99: latency "
        "of one request (a page, for S6). alone ms: one unit sent alone before the cell. "
        "calls alone / calls/unit: upstream calls counted at the emulator for one unit "
        "alone, and per unit under load, counting the requests still in flight when the "
        "load stopped (their calls are made). CPU ms/unit: the gateway process's "
        "user+system CPU time from the start of the cell until it is idle again, same "
        "divisor. RSS: the gateway's resident "
        "memory after the cell. errors: non-2xx answers, socket errors and timeouts, and "
        "2xx answers carrying a GraphQL error or an ErrorBody. emulator CPU %: the "
        "emulator's CPU time during the cell over its duration; near 100 % the "
        "single-process emulator, not the gateway, limits the cell. ours/peer: our value "
        "over the peer's (for units/s higher is better, for the rest lower is better)."
    )


def write(name: str, cells: list[Cell], info: dict[str, Any], markdown: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": info, "cells": [asdict(cell) for cell in cells]}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    path = RESULTS / f"{name}.md"
    path.write_text(markdown + "\n")
    return path


def document(cells: list[Cell], info: dict[str, Any], scenarios: list[tuple[str, str]]) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in info.items())
    return (
        "# Side by side: our gateway and Hive Gateway over the same emulator\n\n"
        f"{facts}\n\n{table(cells)}\n\n{legend(scenarios)}"
    )
