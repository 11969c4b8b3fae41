"""Problematic sessions (GET /locations/problematicSessions), paged."""

from __future__ import annotations

from gateway.cursors import Position
from gateway.loaders.caller import Caller
from gateway.loaders.limits import Limits
from gateway.loaders.pages import PagedList
from gateway.loaders.queries import SessionQuery
from gateway.loaders.scope import RequestScope
from gateway.paging import Slice
from gateway.upstream.models import NetworkStatusSession
from gateway.upstream.pages import Page


class SessionLoaders:
    def __init__(self, caller: Caller, scope: RequestScope, limits: Limits) -> None:
        self._caller = caller
        self._pages: PagedList[SessionQuery, NetworkStatusSession] = PagedList(
            self._page, scope, limits, row_key=session_key
        )

    async def problematic(
        self, query: SessionQuery, start: Position, first: int
    ) -> Slice[NetworkStatusSession]:
        return await self._pages.slice(query, start, first)

    async def _page(self, query: SessionQuery, token: str | None) -> Page[NetworkStatusSession]:
        caller = self._caller
        return await caller.call(
            caller.upstream.problematic_sessions_page,
            location_uids=query.location_uids,
            start=query.start,
            end=query.end,
            page_token=token,
        )


def session_key(row: NetworkStatusSession) -> str:
    """A session's identity for cursors: its txId, else what the upstream row says of it."""
    tx_id = row.transaction.tx_id if row.transaction else None
    return tx_id or f"{row.start_time}|{row.ev_id}|{row.location_uid}"
