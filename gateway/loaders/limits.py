"""The bounds of what a request's loaders ask of the upstream, shared with the estimate.

A list walk reads the upstream pages `first` rows fill (`list_pages`, never more than
`max_list_pages`), or at most `filtered_pages(first)` when the gateway drops rows itself;
a status walk at most `max_walk_pages`. The cost estimate (`gateway/schema/costs.py`)
charges these bounds; it is an upper bound as long as the upstream's pages hold at least
`page_size` rows (ChargEye does not document its page size), and the request's call
budget stops whatever it missed.
The contract's figures are read here, so that the schema never reads the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Final

from gateway.upstream import contract

BATCH_SIZE: Final = contract.MAX_IDS_PER_CALL
"""Keys one batched call carries: N parents cost ⌈N / BATCH_SIZE⌉ calls."""
MAX_FILTERED_PAGES: Final = contract.MAX_FILTERED_PAGES


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request's loaders may read."""

    page_size: int = contract.PAGE_SIZE_HINT
    """Rows the upstream is taken to put on a page (it does not say; see contract.py)."""
    max_walk_pages: int = 100
    """Pages one status walk may read before the request is refused."""
    max_calls: int = 500
    """Upstream calls one request may make (the runtime backstop of the estimate)."""
    max_page_size: int = 200
    """The largest `first` a list accepts (larger is refused before any call)."""

    def pages(self, rows: int) -> int:
        """Pages that hold `rows` rows."""
        return ceil(max(rows, 0) / self.page_size)

    def list_pages(self, first: int) -> int:
        """Pages one GraphQL page of `first` rows needs: as many as `first` rows fill,
        and one more for a page that starts inside an upstream page."""
        return self.pages(first) + 1 if first > 0 else 0

    @staticmethod
    def max_list_pages(first: int) -> int:
        """The hard bound of an unfiltered walk, whatever the upstream's page size: every
        page but the last holds a row, so `first` rows never need more than `first + 1`."""
        return first + 1 if first > 0 else 0

    def filtered_pages(self, first: int) -> int:
        """Pages a filtered GraphQL page reads at most: twice what unfiltered rows would
        fill (at least 2), never more than `MAX_FILTERED_PAGES`. A page that runs out of
        budget answers the rows it found, `hasNextPage` and a cursor to go on from."""
        if first <= 0:
            return 0
        return min(MAX_FILTERED_PAGES, max(2, 2 * self.pages(first)))
