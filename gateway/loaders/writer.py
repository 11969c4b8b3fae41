"""`LocationWriter`: the gateway's only writes, each sent upstream exactly once.

The client never retries a POST or PATCH (a lost answer to a create may still have
created the location). After a write, the request's cached reads of that location are
dropped, so the payload's `location` field shows the row as the upstream now has it.
"""

from __future__ import annotations

import hashlib

from gateway.idempotency import (
    IdempotencyStore,
    MemoryIdempotencyStore,
    caller_scope,
    checked_key,
)
from gateway.loaders.caller import Caller
from gateway.loaders.locations import LocationLoaders
from gateway.upstream.models import LocationInput, encode


class LocationWriter:
    def __init__(
        self, caller: Caller, locations: LocationLoaders, keys: IdempotencyStore | None
    ) -> None:
        self._caller = caller
        self._locations = locations
        self._keys = keys or MemoryIdempotencyStore()

    async def create(
        self,
        fields: LocationInput,
        *,
        copy_access_of: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Create a location; `copy_access_of` names a station whose tenancy it takes.

        With an `idempotency_key`, a retry gets the first create's id (see idempotency.py).
        """
        caller = self._caller

        async def create() -> str:
            return await caller.call(
                caller.upstream.create_location, fields, station_id=copy_access_of
            )

        if idempotency_key is None:
            new_id = await create()
        else:
            fingerprint = hashlib.sha256(encode([fields, copy_access_of])).hexdigest()
            new_id = await self._keys.run(
                caller_scope(caller.token), checked_key(idempotency_key), fingerprint, create
            )
        self._locations.forget(new_id)
        return new_id

    async def update(self, uid: str, fields: LocationInput) -> None:
        caller = self._caller
        await caller.call(caller.upstream.update_location, uid, fields)
        self._locations.forget(uid)
