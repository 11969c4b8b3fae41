"""The options of `python -m bench side-by-side`, and the full and quick presets."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

FULL_CONCURRENCY = (1, 16, 64)
QUICK_CONCURRENCY = (1, 16)
# The quick preset keeps the scenarios both gateways serve plus the dashboard, so a
# developer sees every kind of row (a ratio, an n/a, a walk) in under two minutes.
QUICK_SCENARIOS = ("S0", "S1", "S2", "S3", "S4", "S6")

# Bounds that keep one run finite on a shared two-core machine.
MAX_SECONDS, MAX_CONCURRENCY, MAX_LATENCY_MS = 300.0, 256, 10_000


@dataclass(frozen=True)
class Options:
    seconds: float = 10.0
    """Measured duration of one cell (one scenario, one gateway, one concurrency)."""
    warmup_seconds: float = 2.0
    """Unmeasured load before a gateway's first cell of each scenario (JIT, pools)."""
    concurrency: tuple[int, ...] = FULL_CONCURRENCY
    latency_ms: int = 20
    """Emulator delay per upstream call; 0 makes the run CPU-bound."""
    page_size: int = 50
    scenarios: tuple[str, ...] | None = None
    """Scenario names to run; None is all of them."""
    gateways: tuple[str, ...] = ("ours", "peer")
    tool: str = "auto"
    """Load generator: auto (wrk if installed, else autocannon), wrk or autocannon."""
    quick: bool = False
    pin: bool = True
    """Pin the gateway to core 0 and everything else to core 1 (taskset), when possible."""


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench side-by-side",
        description="Our gateway and Hive Gateway (GraphQL Mesh over the same OpenAPI "
        "contract), one at a time against one emulator, in one table.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"scenarios {','.join(QUICK_SCENARIOS)}, concurrency "
        f"{','.join(map(str, QUICK_CONCURRENCY))}, 2 s cells (under two minutes)",
    )
    parser.add_argument("--seconds", type=float, help="seconds per cell (full 10, quick 2)")
    parser.add_argument("--warmup-seconds", type=float, help="unmeasured load (full 2, quick 0)")
    parser.add_argument(
        "--concurrency", help="comma-separated client counts (full 1,16,64; quick 1,16)"
    )
    parser.add_argument(
        "--latency-ms", type=int, default=20, help="emulator delay per call (default 20)"
    )
    parser.add_argument(
        "--page-size", type=int, default=50, help="emulator rows per page (default 50)"
    )
    parser.add_argument("--scenarios", help="comma-separated, e.g. S1,S2 (default: all)")
    parser.add_argument(
        "--gateways", default="ours,peer", help="ours, peer or both (default ours,peer)"
    )
    parser.add_argument("--tool", choices=("auto", "wrk", "autocannon"), default="auto")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    args = parser.parse_args(argv)

    seconds = args.seconds if args.seconds is not None else (2.0 if args.quick else 10.0)
    warmup = (
        args.warmup_seconds if args.warmup_seconds is not None else (0.0 if args.quick else 2.0)
    )
    default = QUICK_CONCURRENCY if args.quick else FULL_CONCURRENCY
    concurrency = concurrency_from(parser, args.concurrency, default)
    scenarios: tuple[str, ...] | None = None
    if args.scenarios:
        scenarios = tuple(s.strip().upper() for s in args.scenarios.split(",") if s.strip())
    elif args.quick:
        scenarios = QUICK_SCENARIOS
    gateways = tuple(g.strip() for g in args.gateways.split(",") if g.strip())

    if not 0 < seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS:g}]")
    if not 0 <= warmup <= MAX_SECONDS:
        parser.error(f"--warmup-seconds must be in [0, {MAX_SECONDS:g}]")
    if not concurrency or any(not 1 <= c <= MAX_CONCURRENCY for c in concurrency):
        parser.error(f"--concurrency values must be in [1, {MAX_CONCURRENCY}]")
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        parser.error(f"--latency-ms must be in [0, {MAX_LATENCY_MS}]")
    if args.page_size < 1:
        parser.error("--page-size must be at least 1")
    if not gateways or any(g not in ("ours", "peer") for g in gateways):
        parser.error("--gateways takes ours, peer or ours,peer")
    return Options(
        seconds=seconds,
        warmup_seconds=warmup,
        concurrency=concurrency,
        latency_ms=args.latency_ms,
        page_size=args.page_size,
        scenarios=scenarios,
        gateways=gateways,
        tool=args.tool,
        quick=args.quick,
        pin=not args.no_pin,
    )


def concurrency_from(
    parser: argparse.ArgumentParser, text: str | None, default: tuple[int, ...]
) -> tuple[int, ...]:
    """`--concurrency 16,64` as a tuple, or `default` when not given."""
    if not text:
        return default
    try:
        return tuple(int(c) for c in text.split(","))
    except ValueError:
        parser.error("--concurrency takes comma-separated integers")
