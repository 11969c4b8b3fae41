"""Locations: the caller's whole list (GET /locations) and single rows by uid."""

from __future__ import annotations

from gateway.errors import NotFound
from gateway.loaders.batch import RequestLoader
from gateway.loaders.caller import Caller
from gateway.loaders.scope import RequestScope
from gateway.upstream.models import LocationRow

EVERY = "every"  # the one key of the whole list


class LocationLoaders:
    def __init__(self, caller: Caller, scope: RequestScope) -> None:
        self._caller = caller
        self._all: RequestLoader[str, tuple[LocationRow, ...]] = RequestLoader(
            self._load_all, scope
        )
        self.by_uid: RequestLoader[str, LocationRow] = RequestLoader(self._load, scope)

    async def all(self) -> tuple[LocationRow, ...]:
        """Every location the caller may see, fetched once per request."""
        return await self._all.load(EVERY)

    async def get(self, uid: str) -> LocationRow:
        return await self.by_uid.load(uid)

    def forget(self, uid: str) -> None:
        """After a write, the next read of this location must ask the upstream again."""
        self.by_uid.clear(uid)
        self._all.clear(EVERY)

    async def _load_all(self, keys: list[str]) -> list[tuple[LocationRow, ...]]:
        caller = self._caller
        rows = await caller.call(caller.upstream.list_locations)
        caller.shape.learn_locations(len(rows))
        return [rows for _ in keys]

    async def _load(self, uids: list[str]) -> list[LocationRow | Exception]:
        caller = self._caller
        # One location alone is one cheap call; several are cheaper as the whole list.
        if len(uids) == 1 and not self._all.asked(EVERY):
            try:
                row = await caller.call(caller.upstream.get_location, uids[0])
            except NotFound as missing:
                return [missing]
            return [row]
        found = {row.id: row for row in await self.all()}
        return [found.get(uid) or NotFound("Location", uid) for uid in uids]
