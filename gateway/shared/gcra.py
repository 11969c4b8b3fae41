"""The generic cell rate algorithm, as pure arithmetic on one stored time.

A bucket is a single number, its theoretical arrival time (TAT): when it would be empty
again at the sustained rate. A request is allowed while TAT, pushed one interval on,
stays within `burst` intervals of now. The Redis backend runs the same rule in Lua.
"""

from __future__ import annotations

import math

from gateway.shared import Allowance


def decide(tat: float | None, now: float, *, per_s: float, burst: int) -> tuple[float, Allowance]:
    """The bucket's new TAT and the decision for one request arriving at `now`."""
    interval = 1.0 / per_s
    tat = max(tat if tat is not None else now, now)
    new_tat = tat + interval
    allow_at = new_tat - burst * interval
    if now < allow_at:
        return tat, Allowance(False, 0, allow_at - now, tat - now)
    remaining = math.floor((now - allow_at) / interval + 1e-9)
    return new_tat, Allowance(True, remaining, 0.0, new_tat - now)
