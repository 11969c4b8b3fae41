"""Query-string reading with the leniency and the strictness of a careful real API.

Array parameters are accepted both as repeated keys (`k=a&k=b`, the OpenAPI default) and
comma-separated (`k=a,b`), and mixtures, because the contract leaves their encoding open.
Unknown parameters are refused where the contract lets the operation answer 400: it
knows no page-size or other extra parameter, so a misspelt one is a client bug worth
surfacing. Operations without a 400 in the contract ignore them, as most APIs do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class QueryError(ValueError):
    """Raised for an unknown, repeated, empty or malformed query parameter; the endpoint
    answers 400 with this message."""


class Query:
    """The query parameters of one request, checked against the names it may carry."""

    def __init__(
        self, items: Sequence[tuple[str, str]], allowed: Iterable[str], *, strict: bool = True
    ) -> None:
        known = set(allowed)
        unknown = [name for name, _ in items if name not in known]
        if strict and unknown:
            raise QueryError(f"Unknown query parameter '{unknown[0]}'")
        self._items = [(name, value) for name, value in items if name in known]

    def _values(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def text(self, name: str) -> str | None:
        """A single-valued parameter; None when absent."""
        values = self._values(name)
        if not values:
            return None
        if len(values) > 1:
            raise QueryError(f"Query parameter '{name}' takes one value")
        if not values[0]:
            raise QueryError(f"Query parameter '{name}' must not be empty")
        return values[0]

    def array(self, name: str, choices: Iterable[str] | None = None) -> frozenset[str] | None:
        """All values of an array parameter, in either encoding; None when absent."""
        values = self._values(name)
        if not values:
            return None
        items = [item.strip() for value in values for item in value.split(",")]
        if not all(items):
            raise QueryError(f"Query parameter '{name}' has an empty item")
        if choices is not None:
            allowed = set(choices)
            for item in items:
                if item not in allowed:
                    raise QueryError(f"Unknown value '{item}' for query parameter '{name}'")
        return frozenset(items)

    def instant(self, name: str) -> datetime | None:
        """An ISO 8601 date (midnight UTC) or date-time (UTC if it names no offset)."""
        text = self.text(name)
        if text is None:
            return None
        return parse_instant(text, name)


def parse_instant(text: str, name: str = "value") -> datetime:
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if "T" not in text:
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise QueryError(
            f"'{name}' must be an ISO 8601 date (2023-05-12) or UTC date-time "
            "(2023-05-12T15:37:00.000Z)"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
