"""Cut one GraphQL page out of upstream pages, reading only the pages it needs.

The upstream decides its own page size and offers no offset, so a GraphQL page that
starts in the middle of an upstream page refetches that page (same token) and skips the
rows before the cursor's offset. When a page ends exactly at an upstream page boundary,
the cursor points at the next upstream page instead, so the following GraphQL page does
not fetch a page only to skip all of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gateway.cursors import Position

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class UpstreamPage(Protocol[T_co]):
    @property
    def rows(self) -> Sequence[T_co]: ...

    @property
    def next_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """Rows of one GraphQL page, each with the position just after it."""

    rows: tuple[tuple[T, Position], ...]
    has_next_page: bool


async def slice_upstream(
    fetch: Callable[[str | None], Awaitable[UpstreamPage[T]]], start: Position, first: int
) -> Slice[T]:
    """Take `first` rows from `start`, fetching upstream pages one at a time, on demand."""
    taken: list[tuple[T, Position]] = []
    token, offset = start.page_token, start.offset
    if first <= 0:
        return Slice((), has_next_page=False)
    while True:
        page = await fetch(token)
        rows = page.rows
        end = min(len(rows), offset + first - len(taken))
        for index in range(offset, end):
            taken.append((rows[index], _after(token, index, rows, page.next_token)))
        if len(taken) == first:
            return Slice(tuple(taken), has_next_page=end < len(rows) or bool(page.next_token))
        if not page.next_token:
            return Slice(tuple(taken), has_next_page=False)
        token, offset = page.next_token, 0


def slice_list(items: Sequence[T], start: Position, first: int) -> Slice[T]:
    """The same cut over a list the upstream returns whole (no upstream paging)."""
    end = min(len(items), start.offset + max(first, 0))
    rows = tuple((items[index], Position(None, index + 1)) for index in range(start.offset, end))
    return Slice(rows, has_next_page=end < len(items))


def _after(
    token: str | None, index: int, rows: Sequence[object], next_token: str | None
) -> Position:
    if index + 1 == len(rows) and next_token:
        return Position(next_token, 0)
    return Position(token, index + 1)
