"""Filter inputs of the network lists, and their checks before any upstream call."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from gateway.errors import BadUserInput
from gateway.schema.enums import TechnicalFailClassification
from gateway.upstream import contract


@strawberry.input(description="Every given condition must hold.")
class SessionFilter:
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these locations (at most 100)."
    )
    started_from: datetime | None = strawberry.field(
        default=None, description="Only sessions that started at or after this instant."
    )
    started_before: datetime | None = strawberry.field(
        default=None, description="Only sessions that started before this instant."
    )


@strawberry.input(description="Every given condition must hold.")
class TransactionFilter(SessionFilter):
    technical_fail_classifications: list[TechnicalFailClassification] | None = strawberry.field(
        default=None, description="Only sessions with one of these verdicts."
    )


def location_ids(ids: list[strawberry.ID] | None) -> list[str] | None:
    if ids is None:
        return None
    if len(ids) > contract.MAX_IDS_PER_CALL:
        raise BadUserInput(
            f"At most {contract.MAX_IDS_PER_CALL} location ids per filter.", field="locationIds"
        )
    return sorted({str(uid) for uid in ids})


def time_window(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    start, end = _aware(start, "startedFrom"), _aware(end, "startedBefore")
    if start is not None and end is not None and start >= end:
        raise BadUserInput("`startedFrom` must be before `startedBefore`.", field="startedFrom")
    return start, end


def classifications(
    values: list[TechnicalFailClassification] | None,
) -> list[TechnicalFailClassification] | None:
    if values is None:
        return None
    if TechnicalFailClassification.UNKNOWN in values:
        raise BadUserInput(
            "UNKNOWN stands for values the gateway does not know; it cannot be filtered on.",
            field="technicalFailClassifications",
        )
    return sorted(set(values), key=str)


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
