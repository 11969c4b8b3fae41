"""One resolver shape for every list the upstream pages with `paginationToken`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from strawberry.types import Info

from gateway.context import Context
from gateway.paging import UpstreamPage, slice_upstream
from gateway.schema.connection import ConnectionT, connection
from gateway.upstream import contract
from gateway.upstream.pages import Page

RowT = TypeVar("RowT")


async def paged_connection(
    info: Info[Context, None],
    cls: type[ConnectionT],
    *,
    list_name: str,
    filter_key: str,
    first: int,
    after: str | None,
    upstream_key: str,
    fetch: Callable[[str, str | None], Awaitable[UpstreamPage[RowT]]],
    node: Callable[[RowT], object],
    row_key: Callable[[RowT], str],
    keep: Callable[[RowT], bool] | None = None,
) -> ConnectionT:
    """Check `first` and `after`, then read only the upstream pages this page needs.

    `fetch(token, page_token)` makes the upstream call, and `upstream_key` names its
    parameters: each distinct upstream page is fetched once per request, so aliases,
    fragments and sibling parents that need the same page share one call. `keep` filters
    rows the upstream cannot filter, and bounds such a walk to `MAX_FILTERED_PAGES`
    upstream pages per GraphQL page. `row_key` names a row, so a cursor can resume after
    it when the upstream page has shifted.
    """
    context = info.context
    size = context.page_size(first)
    codec = context.cursors(list_name, filter_key)
    start = codec.decode(after)
    token = context.require_token()

    async def page(page_token: str | None) -> UpstreamPage[RowT]:
        key = (list_name, upstream_key, page_token)
        fetched = await context.loaders.memo(key, lambda: fetch(token, page_token))
        if keep is None:
            return fetched
        return Page(
            rows=tuple(row for row in fetched.rows if keep(row)), next_token=fetched.next_token
        )

    max_pages = None if keep is None else contract.MAX_FILTERED_PAGES
    cut = await slice_upstream(page, start, size, key=row_key, max_pages=max_pages)
    return connection(cls, cut, codec, node)
