"""`python -m bench [calls]`: reports that measure, kept out of the unit suite."""

from __future__ import annotations

import asyncio
import sys

from bench import calls, compression

REPORTS = {"calls": calls.main, "compression": compression.main}


def run(argv: list[str]) -> int:
    names = argv or list(REPORTS)
    unknown = [name for name in names if name not in REPORTS]
    if unknown:
        print(f"unknown report(s): {', '.join(unknown)}; choose from {', '.join(REPORTS)}")
        return 2
    for name in names:
        print(f"== {name} ==")
        asyncio.run(REPORTS[name]())
    return 0


sys.exit(run(sys.argv[1:]))
