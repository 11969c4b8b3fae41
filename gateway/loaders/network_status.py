"""The network status view (GET /locations/networkStatus): location → stations → EVSEs.

Batched by `locationUids` (at most `contract.MAX_IDS_PER_CALL` per walk), each batch
walking its pages; or the whole network at once, which every later batch then shares.
Each status tree read teaches the station lookups, so a station or EVSE the request has
seen costs no further call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gateway.errors import NotFound, QueryTooComplex
from gateway.loaders.batch import RequestLoader, settle
from gateway.loaders.caller import Caller
from gateway.loaders.scope import RequestScope
from gateway.upstream import contract
from gateway.upstream.models import NetworkLocationStatus
from gateway.upstream.pages import Page, walk

WHOLE_NETWORK = "*"
Learn = Callable[[NetworkLocationStatus], None]


class NetworkStatusLoaders:
    def __init__(
        self, caller: Caller, scope: RequestScope, learn: Learn, *, max_pages: int
    ) -> None:
        self._caller = caller
        self._learn = learn
        self._max_pages = max_pages
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

    def prefetch(self, uid: str) -> None:
        if contract.possible_id(uid):  # else its field finds nothing, without a call
            self.by_location.prefetch(uid)

    def prefetch_whole_network(self) -> None:
        """Start the whole-network walk now; later per-location batches share it."""
        self._whole.prefetch(WHOLE_NETWORK)

    async def among(self, uids: Sequence[str]) -> tuple[NetworkLocationStatus, ...]:
        """The trees of those of `uids` the caller can see (a live poll's scope: a location
        that is unknown or hidden is left out, where `by_location` would fail it)."""
        settled = await settle(uids, self.by_location.load)
        trees = []
        for tree in settled.values():
            if isinstance(tree, NotFound):
                continue
            if isinstance(tree, Exception):
                raise tree
            trees.append(tree)
        return tuple(trees)

    async def _load_whole(self, keys: list[str]) -> list[tuple[NetworkLocationStatus, ...]]:
        rows = await self._walk(None)
        self._caller.shape.learn_locations(len(rows))
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
        """Every page of the view for `uids`, at most `max_pages` of them.

        A walk cut short would count a network wrongly, so a longer one is refused.
        """
        caller = self._caller
        pages = 0

        async def page(page_token: str | None) -> Page[NetworkLocationStatus]:
            nonlocal pages
            pages += 1
            if pages > self._max_pages:
                raise QueryTooComplex(
                    f"The network status needs more than {self._max_pages} upstream pages; "
                    "ask for fewer locations.",
                    limit="walk_pages",
                )
            return await caller.call(
                caller.upstream.network_status_page, location_uids=uids, page_token=page_token
            )

        rows = tuple([row async for row in walk(page)])
        for location in rows:
            self._learn(location)
        caller.shape.learn_status(rows, now=time.monotonic())
        return rows
