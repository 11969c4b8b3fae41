"""`Timeline`: rows newest first, for views that only ever grow at the new end.

The rows are kept oldest first underneath, so a new row is an append and every row keeps
its position for good: replacing a row (a session that ends, an error that clears) is one
assignment through an id -> position index, not a re-sort or a copy of the whole view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class Timeline(Sequence[T]):
    """A newest-first sequence of rows with unique ids; iterating costs what a list does."""

    def __init__(self, newest_first: Sequence[T], id_of: Callable[[T], str]) -> None:
        self._id_of = id_of
        self._rows: list[T] = list(reversed(newest_first))
        self._position = {id_of(row): n for n, row in enumerate(self._rows)}

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return list(self)[index]
        if not -len(self._rows) <= index < len(self._rows):
            raise IndexError("timeline index out of range")
        return self._rows[-1 - index]  # also right for negative indexes

    def __iter__(self) -> Iterator[T]:
        return reversed(self._rows)

    def __reversed__(self) -> Iterator[T]:
        return iter(self._rows)

    def get(self, row_id: str) -> T | None:
        position = self._position.get(row_id)
        return None if position is None else self._rows[position]

    def position(self, row_id: str) -> int | None:
        """Where the row sits for good (0 = the oldest), for indexes kept beside this one."""
        return self._position.get(row_id)

    def at(self, position: int) -> T:
        return self._rows[position]

    def newest_first_at(self, positions: Sequence[int]) -> list[T]:
        """The rows at `positions` (ascending, as kept beside this timeline), newest first."""
        rows = self._rows
        return [rows[position] for position in reversed(positions)]

    def add_newest(self, row: T) -> int:
        """Add a row newer than every row so far (the caller keeps that promise)."""
        row_id = self._id_of(row)
        if row_id in self._position:
            raise ValueError(f"duplicate id {row_id!r}")
        self._rows.append(row)
        self._position[row_id] = len(self._rows) - 1
        return len(self._rows) - 1

    def replace(self, row: T) -> None:
        """Swap in a new version of a row, in place (its sort key must not change)."""
        self._rows[self._position[self._id_of(row)]] = row
