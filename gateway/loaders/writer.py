"""`LocationWriter`: the gateway's only writes, each sent upstream exactly once.

The client never retries a POST or PATCH (a lost answer to a create may still have
created the location). After a write, the request's cached reads of that location are
dropped, so the payload's `location` field shows the row as the upstream now has it.
"""

from __future__ import annotations

from gateway.loaders.caller import Caller
from gateway.loaders.locations import LocationLoaders
from gateway.upstream.models import LocationInput


class LocationWriter:
    def __init__(self, caller: Caller, locations: LocationLoaders) -> None:
        self._caller = caller
        self._locations = locations

    async def create(self, fields: LocationInput, *, copy_access_of: str | None = None) -> str:
        """Create a location; `copy_access_of` names a station whose tenancy it takes."""
        caller = self._caller
        new_id = await caller.upstream.create_location(
            fields, token=caller.token, station_id=copy_access_of, deadline=caller.deadline
        )
        self._locations.forget(new_id)
        return new_id

    async def update(self, uid: str, fields: LocationInput) -> None:
        caller = self._caller
        await caller.upstream.update_location(
            uid, fields, token=caller.token, deadline=caller.deadline
        )
        self._locations.forget(uid)
