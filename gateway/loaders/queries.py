"""Typed queries of the upstream lists, checked before any upstream call.

Resolvers turn their GraphQL arguments into these frozen records; the loaders key their
pages by them, and cursors are bound to their canonical `key`. Each constructor enforces
what the upstream contract allows (at most `contract.MAX_IDS_PER_CALL` ids per filter, a
time window in the right order), raising `BadUserInput` that names the argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from gateway.errors import BadUserInput
from gateway.upstream import contract
from gateway.upstream.models import HardwareError, TechnicalFailClassification, TransactionRecord

LocationUids = tuple[str, ...] | None  # None: every location the caller may see
MAX_FILTER_TEXT = 200  # ours: longer than any name, city or severity the upstream holds


def location_uids(ids: Iterable[str] | None, *, field: str = "locationIds") -> LocationUids:
    """A location filter: distinct, sorted, and no longer than one upstream call takes."""
    if ids is None:
        return None
    given = checked_ids(ids, field=field)
    if len(given) > contract.MAX_IDS_PER_CALL:
        raise BadUserInput(
            f"At most {contract.MAX_IDS_PER_CALL} location ids per filter.", field=field
        )
    return tuple(sorted(set(given)))


def checked_ids(ids: Iterable[str], *, field: str) -> list[str]:
    """Ids of a filter; one the upstream could never hold is the caller's mistake."""
    given = [str(value) for value in ids]
    if not all(contract.possible_id(value) for value in given):
        raise BadUserInput(
            f"`{field}` holds an id that cannot exist (empty, over "
            f"{contract.MAX_ID_LENGTH} characters, or with `/`, `\\` or control characters).",
            field=field,
        )
    return given


def checked_text(value: str | None, *, field: str, limit: int = MAX_FILTER_TEXT) -> str | None:
    if value is not None and len(value) > limit:
        raise BadUserInput(f"`{field}` is longer than {limit} characters.", field=field)
    return value


def time_window(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    start, end = _aware(start, "startedFrom"), _aware(end, "startedBefore")
    if start is not None and end is not None and start >= end:
        raise BadUserInput("`startedFrom` must be before `startedBefore`.", field="startedFrom")
    return start, end


def classifications(
    values: Iterable[TechnicalFailClassification] | None,
) -> tuple[TechnicalFailClassification, ...] | None:
    if values is None:
        return None
    chosen = set(values)
    if TechnicalFailClassification.UNKNOWN in chosen:
        raise BadUserInput(
            "UNKNOWN stands for values the gateway does not know; it cannot be filtered on.",
            field="technicalFailClassifications",
        )
    return tuple(sorted(chosen, key=str))


def _aware(value: datetime | None, field: str) -> datetime | None:
    """The instant in UTC; a DateTime without an offset is read as UTC, as upstream writes."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is past datetime.max in UTC
        raise BadUserInput(f"`{field}` is out of range.", field=field) from None


def _canonical(*parts: object) -> str:
    return msgspec.json.encode(parts).decode()


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Problematic sessions: by locations and a start-time window."""

    location_uids: LocationUids = None
    start: datetime | None = None
    end: datetime | None = None

    def key(self) -> str:
        return _canonical(self.location_uids, self.start, self.end)


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    """Network transactions: by locations, a start-time window and classifications."""

    location_uids: LocationUids = None
    start: datetime | None = None
    end: datetime | None = None
    classifications: tuple[TechnicalFailClassification, ...] | None = None

    def key(self) -> str:
        return _canonical(self.location_uids, self.start, self.end, self.classifications)


@dataclass(frozen=True, slots=True)
class EvseTransactionQuery:
    """One EVSE's sessions, read from its station's list and filtered to the EVSE."""

    station_id: str
    evse_id: str
    start: datetime | None = None
    end: datetime | None = None
    classifications: tuple[TechnicalFailClassification, ...] | None = None

    def key(self) -> str:
        return _canonical(self.station_id, self.evse_id, self.start, self.end, self.classifications)

    @property
    def station_pages(self) -> StationTransactionPages:
        """What the upstream is asked for: the station's list in the window."""
        return StationTransactionPages(self.station_id, self.start, self.end)

    def keeps(self, row: TransactionRecord) -> bool:
        if row.evse_id != self.evse_id:
            return False
        return (
            self.classifications is None
            or row.technical_fail_classification in self.classifications
        )


@dataclass(frozen=True, slots=True)
class StationTransactionPages:
    station_id: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class HardwareErrorQuery:
    """Hardware errors: the upstream filters by location; the gateway filters the rest."""

    location_uids: LocationUids = None
    station_ids: frozenset[str] | None = None
    severities: frozenset[str] | None = None  # casefolded
    active_only: bool = False

    @classmethod
    def of(
        cls,
        location_uids: LocationUids,
        *,
        station_ids: Iterable[str] | None = None,
        severities: Iterable[str] | None = None,
        active_only: bool = False,
        within_station: str | None = None,
    ) -> HardwareErrorQuery:
        """The query, narrowed to one station's errors when `within_station` is given."""
        if station_ids:
            station_ids = checked_ids(station_ids, field="stationIds")
        for severity in severities or ():
            checked_text(severity, field="severities")
        stations = frozenset(station_ids) if station_ids else None
        if within_station is not None:
            inside = stations is None or within_station in stations
            stations = frozenset({within_station}) if inside else frozenset()
        folded = frozenset(s.casefold() for s in severities) if severities else None
        return cls(location_uids, stations, folded, active_only)

    def key(self) -> str:
        stations = sorted(self.station_ids) if self.station_ids is not None else None
        return _canonical(
            self.location_uids, stations, sorted(self.severities or ()), self.active_only
        )

    @property
    def filters_rows(self) -> bool:
        """Whether the gateway drops rows itself (so a page may need several calls)."""
        return self.station_ids is not None or self.severities is not None or self.active_only

    def keeps(self, row: HardwareError) -> bool:
        if self.station_ids is not None and row.station_id not in self.station_ids:
            return False
        if self.severities is not None:
            severity = row.error.severity if row.error else None
            if (severity or "").casefold() not in self.severities:
                return False
        return not self.active_only or (row.alert is not None and row.alert.end_time is None)
