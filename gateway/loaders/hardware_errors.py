"""Hardware errors (GET /locations/networkHardwareErrors), paged by location filter.

The upstream filters by location only; station, severity and activity are filtered here,
so such a page may need several upstream pages (at most `Limits.filtered_pages`).
Queries that differ only in those filters share the upstream pages.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.cursors import Position
from gateway.loaders.caller import Caller
from gateway.loaders.limits import Limits
from gateway.loaders.pages import PagedList
from gateway.loaders.queries import HardwareErrorQuery, LocationUids
from gateway.loaders.scope import RequestScope
from gateway.paging import Slice
from gateway.upstream.models import HardwareError
from gateway.upstream.pages import Page


class HardwareErrorLoaders:
    def __init__(self, caller: Caller, scope: RequestScope, limits: Limits) -> None:
        self._caller = caller
        self._pages: PagedList[LocationUids, HardwareError] = PagedList(
            self._page, scope, limits, row_key=error_key
        )

    async def page(
        self, query: HardwareErrorQuery, start: Position, first: int
    ) -> Slice[HardwareError]:
        keep = query.keeps if query.filters_rows else None
        return await self._pages.slice(query.location_uids, start, first, keep=keep)

    async def newest(self, uids: LocationUids) -> tuple[HardwareError, ...]:
        """The upstream's first page alone: its newest errors (it sorts newest first)."""
        return (await self._page(uids, None)).rows

    async def newest_until(
        self, uids: LocationUids, seen: Callable[[HardwareError], bool], max_pages: int
    ) -> tuple[HardwareError, ...]:
        """The newest errors, page after page until a page holds a row `seen` (the upstream
        sorts newest first, so what follows is older still), the last page, or `max_pages`."""
        rows: list[HardwareError] = []
        token: str | None = None
        for _ in range(max(1, max_pages)):
            page = await self._page(uids, token)
            rows.extend(page.rows)
            if page.is_last or any(seen(row) for row in page.rows):
                break
            token = page.next_token
        return tuple(rows)

    async def _page(self, uids: LocationUids, token: str | None) -> Page[HardwareError]:
        caller = self._caller
        return await caller.call(
            caller.upstream.hardware_errors_page, location_uids=uids, page_token=token
        )


def error_key(row: HardwareError) -> str:
    alert_id = row.alert.id if row.alert else None
    return alert_id or f"{row.station_id}|{row.timestamp}"
