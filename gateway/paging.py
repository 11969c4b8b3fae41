"""Cut one GraphQL page out of upstream pages, reading only the pages it needs.

The upstream decides its own page size and offers no offset, so a GraphQL page that
starts in the middle of an upstream page refetches that page (same token) and skips the
rows before the cursor's offset. When a page ends exactly at an upstream page boundary,
the cursor points at the next upstream page instead, so the following GraphQL page does
not fetch a page only to skip all of it.

A position also remembers the key of the row before it: if the upstream page shifted in
between (a new session arrived at the top), the walk resumes after that row rather than
at a stale offset, so no row is shown twice or skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gateway.cursors import START, Position
from gateway.errors import UpstreamProtocolError

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
RowKey = Callable[[T], str]


class UpstreamPage(Protocol[T_co]):
    @property
    def rows(self) -> Sequence[T_co]: ...

    @property
    def next_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """Rows of one GraphQL page, each with the position just after it.

    `end` is where the next page starts: after the last row, or after the last upstream
    page read when a filtered walk stopped at its page budget without filling the page.
    """

    rows: tuple[tuple[T, Position], ...]
    has_next_page: bool
    end: Position | None = None


async def slice_upstream(
    fetch: Callable[[str | None], Awaitable[UpstreamPage[T]]],
    start: Position,
    first: int,
    *,
    key: RowKey[T],
    max_pages: int | None = None,
) -> Slice[T]:
    """Take `first` rows from `start`, fetching upstream pages one at a time, on demand.

    `max_pages` bounds a walk whose rows the gateway filters: a filter that matches
    nothing must not read the whole upstream list in one request.
    """
    if first <= 0:
        return Slice((), has_next_page=False, end=start)
    taken: list[tuple[T, Position]] = []
    token, offset, last_key = start.page_token, start.offset, start.last_key
    seen: set[str | None] = set()
    while True:
        if token in seen:  # a token that comes round again would loop for ever
            raise UpstreamProtocolError("the upstream's page tokens repeat", operation="paging")
        seen.add(token)
        page = await fetch(token)
        rows = page.rows
        offset = _resynchronised(rows, offset, last_key, key)
        end = min(len(rows), offset + first - len(taken))
        for index in range(offset, end):
            taken.append((rows[index], _after(token, index, rows, page.next_token, key)))
        if len(taken) == first:
            more = end < len(rows) or bool(page.next_token)
            return Slice(tuple(taken), has_next_page=more, end=taken[-1][1])
        if not page.next_token:
            return Slice(tuple(taken), has_next_page=False, end=taken[-1][1] if taken else None)
        if max_pages is not None and len(seen) >= max_pages:
            return Slice(tuple(taken), has_next_page=True, end=Position(page.next_token, 0))
        token, offset, last_key = page.next_token, 0, None


def slice_list(items: Sequence[T], start: Position, first: int, *, key: RowKey[T]) -> Slice[T]:
    """The same cut over a list the upstream returns whole (no upstream paging)."""
    offset = _resynchronised(items, start.offset, start.last_key, key)
    end = min(len(items), offset + max(first, 0))
    rows = tuple(
        (items[index], Position(None, index + 1, key(items[index]))) for index in range(offset, end)
    )
    return Slice(rows, has_next_page=end < len(items), end=rows[-1][1] if rows else None)


def _resynchronised(rows: Sequence[T], offset: int, last_key: str | None, key: RowKey[T]) -> int:
    """The offset after the row named `last_key`, wherever it moved to in this page."""
    if last_key is None or (0 < offset <= len(rows) and key(rows[offset - 1]) == last_key):
        return offset
    for index, row in enumerate(rows):
        if key(row) == last_key:
            return index + 1
    return offset  # the row is gone from this page: the old offset is the best guess


def _after(
    token: str | None,
    index: int,
    rows: Sequence[T],
    next_token: str | None,
    key: RowKey[T],
) -> Position:
    if index + 1 == len(rows) and next_token:
        return Position(next_token, 0)
    return Position(token, index + 1, key(rows[index]))


__all__ = ["START", "Slice", "UpstreamPage", "slice_list", "slice_upstream"]
