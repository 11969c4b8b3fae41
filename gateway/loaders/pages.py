"""`PagedList`: one upstream list paged by token, read page by page as a GraphQL page needs.

Each distinct upstream page (the list's query and a page token) is fetched once per
request, so aliases, fragments and sibling parents that need the same page share one call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from gateway.cursors import Position
from gateway.loaders.batch import RequestLoader, each
from gateway.loaders.limits import Limits
from gateway.loaders.scope import RequestScope
from gateway.paging import Slice, slice_upstream
from gateway.upstream.pages import Page

Q = TypeVar("Q", bound=Hashable)
Row = TypeVar("Row")

FetchPage = Callable[[Q, str | None], Awaitable[Page[Row]]]


class PagedList(Generic[Q, Row]):
    """Pages of one upstream list for any query `Q` (a frozen, hashable filter record)."""

    def __init__(
        self,
        fetch: FetchPage[Q, Row],
        scope: RequestScope,
        limits: Limits,
        *,
        row_key: Callable[[Row], str],
    ) -> None:
        self._fetch = fetch
        self._limits = limits
        self._row_key = row_key
        self._pages: RequestLoader[tuple[Q, str | None], Page[Row]] = RequestLoader(
            each(self._fetch_page), scope
        )

    async def slice(
        self,
        query: Q,
        start: Position,
        first: int,
        *,
        keep: Callable[[Row], bool] | None = None,
    ) -> Slice[Row]:
        """`first` rows from `start`, reading only the upstream pages they need.

        `keep` filters rows the upstream cannot filter. Either walk is bounded
        (`Limits.list_pages`, `Limits.filtered_pages`): a page that runs out of pages
        answers what it found, with `hasNextPage` and a cursor to resume from.
        """
        limits = self._limits
        max_pages = limits.max_list_pages(first) if keep is None else limits.filtered_pages(first)

        async def page(token: str | None) -> Page[Row]:
            fetched = await self._pages.load((query, token))
            if keep is None:
                return fetched
            return Page(
                rows=tuple(row for row in fetched.rows if keep(row)), next_token=fetched.next_token
            )

        return await slice_upstream(page, start, first, key=self._row_key, max_pages=max_pages)

    async def _fetch_page(self, key: tuple[Q, str | None]) -> Page[Row]:
        query, token = key
        return await self._fetch(query, token)
