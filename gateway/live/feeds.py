"""The three upstream views the live layer polls, and what each poll hands subscribers.

- status (GET /locations/networkStatus, every page): EVSE changes and the header's counts;
- power (GET /locations/currentlyUsedPower): power and sessions per location;
- errors (GET /locations/networkHardwareErrors, newest first, down to the errors the last
  poll saw): errors raised.

A tick computes its diff once, lazily, for all the cohort's subscribers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from gateway.errors import NotFound
from gateway.live.diff import (
    EvseChange,
    PowerChange,
    SummaryCounts,
    evse_changes,
    new_errors,
    power_changes,
    summary_counts,
)
from gateway.live.snapshots import ErrorSnapshot, PowerSnapshot, StatusSnapshot
from gateway.loaders import Loaders
from gateway.loaders.batch import settle
from gateway.loaders.hardware_errors import error_key
from gateway.loaders.queries import LocationUids
from gateway.upstream.models import HardwareError

STATUS, POWER, ERRORS = "status", "power", "errors"


@dataclass(eq=False)
class StatusTick:
    old: StatusSnapshot | None
    new: StatusSnapshot
    _summaries: dict[LocationUids, SummaryCounts] = field(default_factory=dict)

    @cached_property
    def changes(self) -> tuple[EvseChange, ...]:
        return evse_changes(self.old, self.new)

    def summary(self, scope: LocationUids) -> SummaryCounts:
        """The counts over `scope`, computed once per tick and scope."""
        found = self._summaries.get(scope)
        if found is None:
            found = self._summaries[scope] = summary_counts(self.new, scope)
        return found


@dataclass(eq=False)
class PowerTick:
    old: PowerSnapshot | None
    new: PowerSnapshot

    @cached_property
    def changes(self) -> tuple[PowerChange, ...]:
        return power_changes(self.old, self.new)


@dataclass(frozen=True, slots=True)
class ErrorRaised:
    """A hardware error the last poll saw first, at its location when that is known."""

    row: HardwareError
    location_uid: str | None


@dataclass(eq=False)
class ErrorTick:
    old: ErrorSnapshot | None
    new: ErrorSnapshot

    @cached_property
    def raised(self) -> tuple[ErrorRaised, ...]:
        located = self.new.location_of
        return tuple(
            ErrorRaised(row, located.get(row.station_id or ""))
            for row in new_errors(self.old, self.new)
        )


async def poll_status(
    loaders: Loaders,
    scope: LocationUids,
    last: StatusSnapshot | None,
    scopes: Sequence[LocationUids],
) -> StatusSnapshot:
    status = loaders.network_status
    trees = await (status.whole_network() if scope is None else status.among(scope))
    return StatusSnapshot.of(scope, trees)


async def poll_power(
    loaders: Loaders,
    scope: LocationUids,
    last: PowerSnapshot | None,
    scopes: Sequence[LocationUids],
) -> PowerSnapshot:
    return PowerSnapshot.of(scope, await loaders.power.of(scope))


async def poll_errors(
    loaders: Loaders,
    scope: LocationUids,
    last: ErrorSnapshot | None,
    scopes: Sequence[LocationUids],
    *,
    max_pages: int = 1,
) -> ErrorSnapshot:
    if last is None:
        rows = await loaders.hardware_errors.newest(scope)  # the first poll: where we start
    else:
        # More new errors than a page since the last poll: read on until one already seen
        # (or older than any seen), so none is skipped; `max_pages` bounds a burst.
        newest = last.newest()

        def seen(row: HardwareError) -> bool:
            if error_key(row) in last.keys:
                return True
            return newest is not None and row.timestamp is not None and row.timestamp < newest

        rows = await loaders.hardware_errors.newest_until(scope, seen, max_pages)
    snapshot = ErrorSnapshot(scope, rows, frozenset(error_key(row) for row in rows))
    if len(set(scopes)) <= 1:
        return snapshot  # one filter for all: every row is within it, no need to place them
    # Rows name a station, not a location: place the new ones (one batched lookup).
    stations = {row.station_id for row in new_errors(last, snapshot) if row.station_id}
    if not stations:
        return snapshot
    placed = await settle(stations, loaders.stations.location_of)
    location_of: dict[str, str] = {}
    for station_id, uid in placed.items():
        if isinstance(uid, str):
            location_of[station_id] = uid
        elif not isinstance(uid, NotFound):
            raise uid
    return ErrorSnapshot(scope, rows, snapshot.keys, location_of)
