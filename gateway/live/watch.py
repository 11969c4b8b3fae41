"""`PowerWatch`: the latest power in use over a scope, read from the shared power poll.

`networkSummaryChanges { currentPowerKw }` reports the power with each event. Asking the
upstream per event would cost one call per event and subscriber; the watch instead rides
the credential's power cohort like a subscriber that queues nothing, keeping its latest
snapshot, so the figure costs nothing beyond the one shared poll per interval.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from gateway.live.cohorts import Cohort
from gateway.live.feeds import PowerTick
from gateway.live.snapshots import PowerSnapshot, covers, covers_all
from gateway.live.subscriber import Subscriber
from gateway.loaders.queries import LocationUids


class PowerWatch:
    def __init__(self, scope: LocationUids) -> None:
        self.scope = scope
        self.snapshot: PowerSnapshot | None = None
        self.subscriber: Subscriber[None] | None = None  # set by the hub when it joins
        self.cohort: Cohort[Any, Any] | None = None

    def select(self, tick: PowerTick, first: bool) -> Iterable[tuple[Hashable, None]]:
        if covers_all(tick.new.scope, self.scope):
            self.snapshot = tick.new
        return ()

    async def total_kw(self) -> float | None:
        """The power over the scope as last polled; None when no good poll covered it
        (the field alone is null, as when a query's power call fails)."""
        cohort = self.cohort
        if self.snapshot is None and cohort is not None and not cohort.failures:
            await cohort.after_next_poll()  # the poll its joining asked for
        snapshot = self.snapshot
        if snapshot is None:
            return None
        total = sum(
            row.current_power_kw or 0.0
            for uid, row in snapshot.rows.items()
            if covers(self.scope, uid)
        )
        return round(total, 3)

    def close(self) -> None:
        if self.subscriber is not None:
            self.subscriber.close()
