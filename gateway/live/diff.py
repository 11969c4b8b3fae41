"""Pure diffs between two snapshots of the same credential and view: what changed.

Only what both snapshots saw can change: a location that came into scope (a subscriber
with new locations joined) is a first sighting, not a change. No diff does I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gateway.live.snapshots import (
    ErrorSnapshot,
    EvseKey,
    EvseSeen,
    PowerSnapshot,
    StatusSnapshot,
    covers,
)
from gateway.loaders.hardware_errors import error_key
from gateway.loaders.queries import LocationUids
from gateway.upstream.models import EvseStatus, HardwareError, LocationPower, TxStatus


@dataclass(frozen=True, slots=True)
class EvseChange:
    """One EVSE whose status, session state or session changed (`before` None: the state
    when a subscriber asked for the initial state)."""

    before: EvseSeen | None
    after: EvseSeen

    @property
    def key(self) -> EvseKey:
        return self.after.key


@dataclass(frozen=True, slots=True)
class PowerChange:
    """One location whose power in use or session count changed."""

    before: LocationPower | None
    after: LocationPower


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    """The counts of the dashboard header over one scope."""

    location_count: int
    station_count: int
    evse_count: int
    by_status: tuple[tuple[EvseStatus, int], ...]  # most common first
    active_sessions: int

    @property
    def faulted(self) -> int:
        return dict(self.by_status).get(EvseStatus.FAULTED, 0)


def evse_state(seen: EvseSeen) -> tuple[object, ...]:
    """What a status event reports about an EVSE: a change of any of these is an event."""
    row = seen.row
    return (row.status, row.tx_status, row.tx_id)


def evse_changes(old: StatusSnapshot | None, new: StatusSnapshot) -> tuple[EvseChange, ...]:
    """EVSEs seen by both polls whose reported state differs, in the new poll's order."""
    if old is None:
        return ()
    changes = []
    for key, after in new.evses.items():
        before = old.evses.get(key)
        if before is None:
            continue  # a first sighting (new in scope, or new upstream) is not a change
        if evse_state(before) != evse_state(after):
            changes.append(EvseChange(before, after))
    return tuple(changes)


def power_changes(old: PowerSnapshot | None, new: PowerSnapshot) -> tuple[PowerChange, ...]:
    """Locations both polls saw whose power or session count differs."""
    if old is None:
        return ()
    changes = []
    uids = list(new.rows) + [uid for uid in old.rows if uid not in new.rows]
    for uid in uids:
        if not covers(old.scope, uid) or not covers(new.scope, uid):
            continue
        before = old.rows.get(uid) or LocationPower(location_uid=uid)
        after = new.rows.get(uid) or LocationPower(location_uid=uid)
        if (before.current_power_kw, before.session_count) != (
            after.current_power_kw,
            after.session_count,
        ):
            changes.append(PowerChange(before, after))
    return tuple(changes)


def new_errors(old: ErrorSnapshot | None, new: ErrorSnapshot) -> tuple[HardwareError, ...]:
    """Errors in the new poll that the old one did not hold.

    When the scope changed between the polls, rows of newly covered locations are not new:
    only those no older than the old poll's newest count.
    """
    if old is None:
        return ()
    newest = old.newest() if old.scope != new.scope else None
    return tuple(
        row
        for row in new.rows
        if error_key(row) not in old.keys
        and (newest is None or (row.timestamp is not None and row.timestamp >= newest))
    )


def summary_counts(snapshot: StatusSnapshot, scope: LocationUids) -> SummaryCounts:
    """The header's counts over the locations of `scope` that the snapshot holds."""
    trees = [tree for tree in snapshot.trees if covers(scope, tree.id)]
    evses = [evse for tree in trees for station in tree.stations for evse in station.evses]
    by_status = Counter(evse.status or EvseStatus.UNKNOWN for evse in evses)
    return SummaryCounts(
        location_count=len(trees),
        station_count=sum(len(tree.stations) for tree in trees),
        evse_count=len(evses),
        by_status=tuple(sorted(by_status.items(), key=lambda item: (-item[1], item[0].value))),
        active_sessions=sum(
            1 for evse in evses if evse.tx_id and evse.tx_status not in (None, TxStatus.ENDED)
        ),
    )
