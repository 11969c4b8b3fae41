"""`python -m bench side-by-side [--quick]`: our gateway next to Hive Gateway, one table.

See bench/README.md for what is measured, how, and the peer's setup.
"""

from __future__ import annotations

from bench.side_by_side.options import Options, parse_args
from bench.side_by_side.run import run

__all__ = ["Options", "main", "parse_args"]


async def main(options: Options | None = None) -> bool:
    # The run is blocking by design (child processes and their clocks); there is no other
    # task on this event loop to starve.
    return run(options or Options())
