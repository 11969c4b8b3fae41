"""The network status view (GET /locations/networkStatus): location → stations → EVSEs.

Batched by `locationUids` (at most `contract.MAX_IDS_PER_CALL` per walk), each batch
walking its pages; or the whole network at once, which every later batch then shares.
Each status tree read teaches the station lookups, so a station or EVSE the request has
seen costs no further call.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import NotFound
from gateway.loaders.batch import RequestLoader
from gateway.loaders.caller import Caller
from gateway.loaders.scope import RequestScope
from gateway.upstream import contract
from gateway.upstream.models import NetworkLocationStatus

WHOLE_NETWORK = "*"
Learn = Callable[[NetworkLocationStatus], None]


class NetworkStatusLoaders:
    def __init__(self, caller: Caller, scope: RequestScope, learn: Learn) -> None:
        self._caller = caller
        self._learn = learn
        self._whole: RequestLoader[str, tuple[NetworkLocationStatus, ...]] = RequestLoader(
            self._load_whole, scope
        )
        self.by_location: RequestLoader[str, NetworkLocationStatus] = RequestLoader(
            self._load_locations, scope, max_batch_size=contract.MAX_IDS_PER_CALL
        )

    async def of(self, uid: str) -> NetworkLocationStatus:
        return await self.by_location.load(uid)

    async def whole_network(self) -> tuple[NetworkLocationStatus, ...]:
        """Every visible location's status tree (the dashboard header needs them all)."""
        rows = await self._whole.load(WHOLE_NETWORK)
        for row in rows:
            self.by_location.prime(row.id, row)
        return rows

    async def _load_whole(self, keys: list[str]) -> list[tuple[NetworkLocationStatus, ...]]:
        rows = await self._walk(None)
        return [rows for _ in keys]

    async def _load_locations(self, uids: list[str]) -> list[NetworkLocationStatus | Exception]:
        # A walk of the whole network asked for already has every location: share it.
        if self._whole.asked(WHOLE_NETWORK):
            rows = await self._whole.load(WHOLE_NETWORK)
        else:
            rows = await self._walk(uids)
        found = {row.id: row for row in rows}
        return [found.get(uid) or NotFound("Location", uid) for uid in uids]

    async def _walk(self, uids: list[str] | None) -> tuple[NetworkLocationStatus, ...]:
        caller = self._caller
        upstream = caller.upstream
        walk = upstream.iter_rows(
            upstream.network_status_page,
            token=caller.token,
            location_uids=uids,
            deadline=caller.deadline,
        )
        rows = tuple([row async for row in walk])
        for location in rows:
            self._learn(location)
        return rows
