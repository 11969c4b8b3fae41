"""Power in use now (GET /locations/currentlyUsedPower), by location or for everything."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from gateway.loaders.batch import RequestLoader, each
from gateway.loaders.caller import Caller
from gateway.loaders.scope import RequestScope
from gateway.upstream import contract
from gateway.upstream.models import LocationPower

WHOLE_NETWORK = "*"
PowerKey = tuple[str, ...] | str  # sorted uids, or WHOLE_NETWORK


class PowerLoaders:
    def __init__(self, caller: Caller, scope: RequestScope) -> None:
        self._caller = caller
        self._sets: RequestLoader[PowerKey, tuple[LocationPower, ...]] = RequestLoader(
            each(self._fetch_set), scope
        )
        self._by_location: RequestLoader[str, LocationPower] = RequestLoader(
            self._load_locations, scope, max_batch_size=contract.MAX_IDS_PER_CALL
        )

    def of(self, uids: Sequence[str] | None) -> Awaitable[tuple[LocationPower, ...]]:
        """Power rows for these locations (None: the whole network), once per request.

        Asking starts the call, so a field may ask early for its nested fields to share.
        """
        return self._sets.load(WHOLE_NETWORK if uids is None else tuple(sorted(set(uids))))

    def prefetch_set(self, uids: Sequence[str] | None) -> None:
        """Start the call for these locations' power now (None: the whole network's)."""
        self._sets.prefetch(WHOLE_NETWORK if uids is None else tuple(sorted(set(uids))))

    def prefetch(self, uid: str | None) -> None:
        """Start the call for one location's power (None: the whole network's) now."""
        if uid is None:
            self._sets.prefetch(WHOLE_NETWORK)
        elif contract.possible_id(uid):
            self._by_location.prefetch(uid)

    def at(self, uid: str) -> Awaitable[LocationPower]:
        """One location's power; sibling locations share a call."""
        return self._by_location.load(uid)

    async def _fetch_set(self, key: PowerKey) -> tuple[LocationPower, ...]:
        return await self._fetch(None if key == WHOLE_NETWORK else list(key))

    async def _load_locations(self, uids: list[str]) -> list[LocationPower]:
        # The whole network's rows, when asked for anyway, hold every location's.
        if self._sets.asked(WHOLE_NETWORK):
            rows = await self._sets.load(WHOLE_NETWORK)
        else:
            rows = await self._fetch(uids)
        found = {row.location_uid: row for row in rows}
        # A location without a row draws no power right now: that is not an error.
        return [found.get(uid) or LocationPower(location_uid=uid) for uid in uids]

    async def _fetch(self, uids: list[str] | None) -> tuple[LocationPower, ...]:
        caller = self._caller
        return await caller.call(caller.upstream.currently_used_power, location_uids=uids)
