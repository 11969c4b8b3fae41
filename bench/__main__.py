"""`python -m bench [REPORT [OPTIONS]]...`: reports that measure, kept out of the unit suite.

With no report named, every report runs with its defaults. Options follow the report they
belong to: `python -m bench load --seconds 5`.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bench import (
    calls,
    compression,
    cost,
    live,
    live_fleet,
    load,
    network,
    scale,
    side_by_side,
    soak,
)

# A report returns None, or False when what it measured is a failure (exit status 1).
Report = Callable[[], Coroutine[Any, Any, bool | None]]

REPORTS: dict[str, Report] = {
    "calls": calls.main,
    "compression": compression.main,
    "cost": cost.main,
    "live": live.main,
    "live-fleet": live_fleet.main,
    "load": load.main,
    "network": network.main,
    "scale": scale.main,
    "side-by-side": side_by_side.main,
    "soak": soak.main,
}
# Reports that take options: name -> the report with its options parsed. Every option is
# parsed before any report starts, so a typo fails at once.
OPTIONS: dict[str, Callable[[list[str]], Report]] = {
    "live": lambda args: functools.partial(live.main, live.parse_args(args)),
    "live-fleet": lambda args: functools.partial(live_fleet.main, live_fleet.parse_args(args)),
    "load": lambda args: functools.partial(load.main, load.parse_args(args)),
    "scale": lambda args: functools.partial(scale.main, scale.parse_args(args)),
    "side-by-side": lambda args: functools.partial(
        side_by_side.main, side_by_side.parse_args(args)
    ),
    "soak": lambda args: functools.partial(soak.main, *(int(arg) for arg in args[:1])),
}


def plan(argv: list[str]) -> list[tuple[str, list[str]]]:
    """Split argv into (report, its arguments): a report's name starts a new report."""
    steps: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg in REPORTS or not steps:
            steps.append((arg, []))
        else:
            steps[-1][1].append(arg)
    return steps


def run(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip() if __doc__ else "")
        print(
            f"reports: {', '.join(REPORTS)}; `python -m bench load --help` and "
            "`python -m bench side-by-side --help` for their options"
        )
        return 0
    steps = plan(argv) or [(name, []) for name in REPORTS]
    unknown = [name for name, _ in steps if name not in REPORTS]
    if unknown:
        print(f"unknown report(s): {', '.join(unknown)}; choose from {', '.join(REPORTS)}")
        return 2
    jobs: list[tuple[str, Report]] = []
    for name, args in steps:
        if name in OPTIONS:
            jobs.append((name, OPTIONS[name](args)))
        elif args:
            print(f"report {name} takes no options: {' '.join(args)}")
            return 2
        else:
            jobs.append((name, REPORTS[name]))
    status = 0
    for name, job in jobs:
        print(f"== {name} ==")
        if asyncio.run(job()) is False:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
