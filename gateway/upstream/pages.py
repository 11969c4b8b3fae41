"""One upstream page, and a walker that fetches pages only as rows are consumed."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

from gateway.errors import UpstreamProtocolError
from gateway.upstream import contract

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of rows and the token of the next page (`None` on the last page)."""

    rows: tuple[T, ...]
    next_token: str | None = None

    @classmethod
    def of(cls, rows: tuple[T, ...], pagination_token: str | None) -> Page[T]:
        """Build a page from the upstream's answer, normalising the last-page signal."""
        next_token = None if contract.is_last_page(pagination_token) else pagination_token
        return cls(rows=rows, next_token=next_token)

    @property
    def is_last(self) -> bool:
        return self.next_token is None


PageFetcher = Callable[[str | None], Awaitable[Page[T]]]
"""Fetches the page that a token names (`None`: the first page)."""


async def walk(
    fetch_page: PageFetcher[T],
    *,
    start_token: str | None = None,
    max_pages: int | None = None,
) -> AsyncGenerator[T, None]:
    """Yield every row of every page, in order.

    The next page is requested only when the consumer asks for a row beyond the current
    page, so stopping early costs no extra upstream call. (Close an abandoned walk with
    `contextlib.aclosing` or `aclose()` to release it promptly.) `start_token` resumes a walk
    at a page; `max_pages` bounds it. A page that names its own token as the next one
    would loop forever, so it is reported as a protocol error.
    """
    token = start_token
    pages = 0
    while True:
        if max_pages is not None and pages >= max_pages:
            return
        page = await fetch_page(token)
        pages += 1
        for row in page.rows:
            yield row
        if page.next_token is None:
            return
        if page.next_token == token:
            raise UpstreamProtocolError("upstream repeated a pagination token")
        token = page.next_token
