"""Stations and EVSEs: live state from the status view, inventory per location, and the
Charging Stations API (GET /stations?stationIds=), the only lookup of a station by id.

A station's live row comes from its location's status tree, batched across locations; a
station whose location is not known yet is first looked up in the Charging Stations API.
A lookup the upstream cannot answer is `NotFound`; a failed lookup keeps its own error, so
an outage is never mistaken for a missing station.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar

from gateway.errors import NotFound
from gateway.loaders.batch import RequestLoader, each, settle
from gateway.loaders.caller import Caller
from gateway.loaders.network_status import NetworkStatusLoaders
from gateway.loaders.scope import RequestScope
from gateway.loaders.station_index import EvseKey, StationIndex
from gateway.upstream import contract
from gateway.upstream.models import (
    LocationChargingStation,
    NetworkEvseStatus,
    NetworkStationStatus,
    StationInfo,
)


class StationLoaders:
    def __init__(
        self,
        caller: Caller,
        scope: RequestScope,
        index: StationIndex,
        network_status: NetworkStatusLoaders,
    ) -> None:
        self._caller = caller
        self._index = index
        self._status = network_status
        self._live: RequestLoader[str, NetworkStationStatus] = RequestLoader(self._load_live, scope)
        self._info: RequestLoader[str, StationInfo] = RequestLoader(
            self._load_info, scope, max_batch_size=contract.MAX_IDS_PER_CALL
        )
        self._inventory_at: RequestLoader[str, tuple[LocationChargingStation, ...]] = RequestLoader(
            each(self._fetch_inventory), scope
        )
        self._inventory: RequestLoader[str, LocationChargingStation] = RequestLoader(
            self._load_inventory, scope
        )

    # --- live state ---------------------------------------------------------------------
    async def live(self, station_id: str) -> NetworkStationStatus:
        known = self._index.live.get(station_id)
        return known if known is not None else await self._live.load(station_id)

    async def evse(self, key: EvseKey) -> NetworkEvseStatus:
        known = self._index.evses.get(key)
        if known is not None:
            return known
        station = await self.live(key[0])
        match = next((evse for evse in station.evses if evse.evse_id == key[1]), None)
        if match is None:
            raise NotFound("EVSE", "/".join(key))
        return match

    async def _load_live(self, station_ids: list[str]) -> list[NetworkStationStatus | Exception]:
        located = await self._locations_of(station_ids)
        trees = await settle({uid for uid in located if isinstance(uid, str)}, self._status.of)
        return [
            _station_in(sid, uid, trees, lambda tree: tree.stations)
            for sid, uid in zip(station_ids, located, strict=True)
        ]

    # --- Charging Stations API ------------------------------------------------------------
    async def info(self, station_id: str) -> StationInfo:
        return await self._info.load(station_id)

    async def _load_info(self, station_ids: list[str]) -> list[StationInfo | Exception]:
        caller = self._caller
        rows = await caller.call(caller.upstream.list_stations, station_ids=list(station_ids))
        found: dict[str, StationInfo] = {}
        for row in rows:
            found[row.station_id] = row
            if row.location_uid:
                self._index.learn_location(row.station_id, row.location_uid)
        return [found.get(sid) or NotFound("Station", sid) for sid in station_ids]

    # --- inventory (GET /locations/{uid}/stations) ----------------------------------------
    async def inventory_at(self, location_uid: str) -> tuple[LocationChargingStation, ...]:
        """A location's station inventory: one call per distinct location, run at once."""
        return await self._inventory_at.load(location_uid)

    def prefetch_inventory_at(self, location_uid: str) -> None:
        if contract.possible_id(location_uid):
            self._inventory_at.prefetch(location_uid)

    async def inventory(self, station_id: str) -> LocationChargingStation:
        return await self._inventory.load(station_id)

    async def _fetch_inventory(self, uid: str) -> tuple[LocationChargingStation, ...]:
        caller = self._caller
        rows = await caller.call(caller.upstream.location_stations, uid)
        caller.shape.learn_inventory(rows)
        for row in rows:
            self._index.learn_location(row.station_id, uid)
        return rows

    async def _load_inventory(
        self, station_ids: list[str]
    ) -> list[LocationChargingStation | Exception]:
        located = await self._locations_of(station_ids)
        lists = await settle({uid for uid in located if isinstance(uid, str)}, self.inventory_at)
        return [
            _station_in(sid, uid, lists, lambda rows: rows)
            for sid, uid in zip(station_ids, located, strict=True)
        ]

    # --- where a station is ----------------------------------------------------------------
    async def location_of(self, station_id: str) -> str:
        [uid] = await self._locations_of([station_id])
        if isinstance(uid, Exception):
            raise uid
        return uid

    async def _locations_of(self, station_ids: list[str]) -> list[str | Exception]:
        """Each station's locationUid: known from earlier payloads, else GET /stations."""
        known = self._index.location_of
        # An id the upstream could never hold is not asked for: it is simply not found.
        unknown = {sid for sid in station_ids if sid not in known and contract.possible_id(sid)}
        looked_up = await settle(unknown, self.info) if unknown else {}

        def uid_of(sid: str) -> str | Exception:
            uid = known.get(sid)
            if uid is not None:
                return uid
            failure = looked_up.get(sid)
            return failure if isinstance(failure, Exception) else NotFound("Station", sid)

        return [uid_of(sid) for sid in station_ids]


class _Keyed(Protocol):
    @property
    def station_id(self) -> str: ...


S = TypeVar("S", bound=_Keyed)
P = TypeVar("P")


def _station_in(
    station_id: str,
    uid: str | Exception,
    parents: Mapping[str, P | Exception],
    stations_of: Callable[[P], Iterable[S]],
) -> S | Exception:
    """The station's row in its location's payload, or why there is none."""
    if isinstance(uid, Exception):
        return uid
    parent = parents[uid]
    if isinstance(parent, Exception):
        return parent
    row = next((row for row in stations_of(parent) if row.station_id == station_id), None)
    return row if row is not None else NotFound("Station", station_id)
