"""Typed snapshots of what one poll saw, for one credential and one upstream view.

A snapshot remembers its `scope` (the locations polled, None for the whole network), so a
diff can tell a location that changed from one that only came into view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gateway.loaders.queries import LocationUids
from gateway.upstream.models import (
    HardwareError,
    LocationPower,
    NetworkEvseStatus,
    NetworkLocationStatus,
)

EvseKey = tuple[str, str]  # (stationId, evseId)


def covers(scope: LocationUids, location_uid: str | None) -> bool:
    """Whether a poll of `scope` saw `location_uid`."""
    return scope is None or (location_uid is not None and location_uid in scope)


def covers_all(outer: LocationUids, inner: LocationUids) -> bool:
    """Whether a poll of `outer` saw every location of `inner`."""
    if outer is None:
        return True
    return inner is not None and set(inner) <= set(outer)


@dataclass(frozen=True, slots=True)
class EvseSeen:
    """One EVSE as a status poll saw it, placed at its station and location."""

    location_uid: str
    station_id: str
    row: NetworkEvseStatus
    # The status tree it came in: an event's relations are resolved from it, not fetched.
    tree: NetworkLocationStatus = field(compare=False, repr=False)

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.row.evse_id)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """The status trees of one poll, and every EVSE in them by key."""

    scope: LocationUids
    trees: tuple[NetworkLocationStatus, ...]
    evses: Mapping[EvseKey, EvseSeen] = field(default_factory=dict)

    @classmethod
    def of(cls, scope: LocationUids, trees: Iterable[NetworkLocationStatus]) -> StatusSnapshot:
        kept = tuple(trees)
        evses = {
            (station.station_id, evse.evse_id): EvseSeen(tree.id, station.station_id, evse, tree)
            for tree in kept
            for station in tree.stations
            for evse in station.evses
        }
        return cls(scope, kept, evses)


@dataclass(frozen=True, slots=True)
class PowerSnapshot:
    """Power in use per location; a location in scope without a row draws nothing."""

    scope: LocationUids
    rows: Mapping[str, LocationPower]

    @classmethod
    def of(cls, scope: LocationUids, rows: Iterable[LocationPower]) -> PowerSnapshot:
        found = {row.location_uid: row for row in rows}
        for uid in scope or ():
            found.setdefault(uid, LocationPower(location_uid=uid))
        return cls(scope, found)


@dataclass(frozen=True, slots=True)
class ErrorSnapshot:
    """The newest hardware errors (down to those the last poll saw), by key, with the location
    of each new error's station where the cohort needed it to split events by filter."""

    scope: LocationUids
    rows: tuple[HardwareError, ...]
    keys: frozenset[str]
    location_of: Mapping[str, str] = field(default_factory=dict)  # stationId -> locationUid

    def newest(self) -> datetime | None:
        """The latest start among the rows (None when there is none)."""
        stamps = [row.timestamp for row in self.rows if row.timestamp is not None]
        return max(stamps) if stamps else None
