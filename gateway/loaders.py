"""Per-request DataLoaders: many keys in one tick become the fewest upstream calls.

Built fresh for every GraphQL request from the shared client and the caller's token, so
no cached row outlives the request or crosses to another tenant. Every batch function
returns one result per key, in key order; a missing key fails alone with `NotFound`,
a failed upstream call fails the whole batch.

The upstream calls each relation costs for N parents are listed in the README
("Upstream calls per relation"); the tests hold the gateway to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING as _TC

if _TC:
    from gateway.upstream.models import TransactionRecord

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol, TypeVar, cast

from aiodataloader import DataLoader

from gateway.errors import NotFound, Unauthenticated
from gateway.upstream import contract
from gateway.upstream.client import UpstreamClient
from gateway.upstream.models import (
    LocationChargingStation,
    LocationPower,
    LocationRow,
    NetworkEvseStatus,
    NetworkLocationStatus,
    NetworkStationStatus,
    StationInfo,
    TransactionRecord,
)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
EvseKey = tuple[str, str]  # (stationId, evseId): an EVSE id is unique only in its station
WHOLE_NETWORK_STATUS = "networkStatus:all"
WHOLE_NETWORK_POWER = "currentlyUsedPower:all"
NO_TOKEN = "This field needs an `Authorization: Bearer <token>` header."


def _loader(
    batch: Callable[[list[K]], Awaitable[Sequence[V | Exception]]], *, batch_size: int | None = None
) -> DataLoader[K, V]:
    """A DataLoader whose batch function may fail single keys (aiodataloader's types say no).

    A batch that raises fails each of its keys and stays cached as failed: aiodataloader
    would otherwise forget the keys, and a later field in the same request would ask the
    failing upstream again.
    """

    async def settled(keys: list[K]) -> Sequence[V | Exception]:
        try:
            return await batch(keys)
        except Exception as failure:  # handed to every waiting field
            return [failure] * len(keys)

    return DataLoader(cast(Any, settled), max_batch_size=batch_size)


class _Keyed(Protocol):
    @property
    def station_id(self) -> str: ...


S = TypeVar("S", bound=_Keyed)
P = TypeVar("P")


def _uids(located: Sequence[str | Exception]) -> set[str]:
    return {uid for uid in located if isinstance(uid, str)}


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
    match = next((row for row in stations_of(parent) if row.station_id == station_id), None)
    return match if match is not None else NotFound("Station", station_id)


class Loaders:
    def __init__(self, upstream: UpstreamClient, token: str | None, deadline: float) -> None:
        self._upstream = upstream
        self._token = token
        self._deadline = deadline
        self._memo: dict[Hashable, asyncio.Future[Any]] = {}
        # stationId → locationUid, learnt from every payload that names both.
        self._station_location: dict[str, str] = {}

    @property
    def token(self) -> str:
        if self._token is None:
            raise Unauthenticated(NO_TOKEN)
        return self._token

    def memo(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """One upstream call per distinct key and request: aliases repeat no call."""
        future = self._memo.get(key)
        if future is None:
            future = asyncio.ensure_future(fetch())
            self._memo[key] = future
        return future

    def cancel_pending(self) -> None:
        """Stop the upstream walks nobody waits for any more (the request has answered)."""
        for future in self._memo.values():
            future.cancel()

    # --- locations --------------------------------------------------------------------
    async def all_locations(self) -> tuple[LocationRow, ...]:
        token = self.token
        return await self.memo(
            "locations", lambda: self._upstream.list_locations(token=token, deadline=self._deadline)
        )

    @cached_property
    def location(self) -> DataLoader[str, LocationRow]:
        return _loader(self._load_locations)

    async def _load_locations(self, uids: list[str]) -> list[LocationRow | Exception]:
        if len(uids) == 1 and "locations" not in self._memo:
            try:
                return [
                    await self._upstream.get_location(
                        uids[0], token=self.token, deadline=self._deadline
                    )
                ]
            except NotFound as missing:
                return [missing]
        found = {row.id: row for row in await self.all_locations()}
        return [found.get(uid) or NotFound("Location", uid) for uid in uids]

    def forget_location(self, uid: str) -> None:
        """After a write, the next read of this location must ask the upstream again."""
        self.location.clear(uid)
        self._memo.pop("locations", None)

    # --- network status: locations → stations → EVSEs, batched by locationUids ----------
    @cached_property
    def network_status(self) -> DataLoader[str, NetworkLocationStatus]:
        return _loader(self._load_network_status, batch_size=contract.MAX_IDS_PER_CALL)

    async def _load_network_status(
        self, uids: list[str]
    ) -> list[NetworkLocationStatus | Exception]:
        whole = self._memo.get(WHOLE_NETWORK_STATUS)
        # A walk of the whole network already under way has every location: share it.
        rows = await whole if whole is not None else await self._walk_network_status(uids)
        found = {row.id: row for row in rows}
        return [found.get(uid) or NotFound("Location", uid) for uid in uids]

    async def whole_network_status(self) -> tuple[NetworkLocationStatus, ...]:
        """Every visible location's status tree (the dashboard header needs them all)."""
        rows = await self.memo(WHOLE_NETWORK_STATUS, lambda: self._walk_network_status(None))
        for row in rows:
            self.network_status.prime(row.id, row)
        return rows

    async def _walk_network_status(
        self, uids: list[str] | None
    ) -> tuple[NetworkLocationStatus, ...]:
        walk = self._upstream.iter_network_status(
            token=self.token, location_uids=uids, deadline=self._deadline
        )
        rows = tuple([row async for row in walk])
        for location in rows:
            self._learn_status(location)
        return rows

    def _learn_status(self, location: NetworkLocationStatus) -> None:
        """Prime station and EVSE lookups from a status tree: a later lookup costs nothing."""
        for station in location.stations:
            self._station_location[station.station_id] = location.id
            self.station_live.prime(station.station_id, station)
            for evse in station.evses:
                self.evse.prime((station.station_id, evse.evse_id), evse)

    # --- stations ---------------------------------------------------------------------
    @cached_property
    def station_live(self) -> DataLoader[str, NetworkStationStatus]:
        return _loader(self._load_station_live)

    async def _load_station_live(
        self, station_ids: list[str]
    ) -> list[NetworkStationStatus | Exception]:
        located = await self._locations_of(station_ids)
        statuses = await self._settle(_uids(located), self.network_status.load)
        return [
            _station_in(sid, uid, statuses, lambda status: status.stations)
            for sid, uid in zip(station_ids, located, strict=True)
        ]

    @cached_property
    def station_info(self) -> DataLoader[str, StationInfo]:
        """Charging Stations API rows: the only lookup of a station by its id."""
        return _loader(self._load_station_info, batch_size=contract.MAX_IDS_PER_CALL)

    async def _load_station_info(self, station_ids: list[str]) -> list[StationInfo | Exception]:
        rows = await self._upstream.list_stations(
            token=self.token, station_ids=list(station_ids), deadline=self._deadline
        )
        found: dict[str, StationInfo] = {}
        for row in rows:
            found[row.station_id] = row
            if row.location_uid:
                self._station_location[row.station_id] = row.location_uid
        return [found.get(sid) or NotFound("Station", sid) for sid in station_ids]

    @cached_property
    def location_stations(self) -> DataLoader[str, tuple[LocationChargingStation, ...]]:
        """Station inventory by location: one call per distinct location, run concurrently."""
        return _loader(self._load_location_stations)

    async def _load_location_stations(
        self, uids: list[str]
    ) -> list[tuple[LocationChargingStation, ...] | Exception]:
        async def one(uid: str) -> tuple[LocationChargingStation, ...]:
            rows = await self._upstream.location_stations(
                uid, token=self.token, deadline=self._deadline
            )
            for row in rows:
                self._station_location[row.station_id] = uid
            return rows

        results = await self._settle(set(uids), one)
        return [results[uid] for uid in uids]

    @cached_property
    def station_inventory(self) -> DataLoader[str, LocationChargingStation]:
        return _loader(self._load_station_inventory)

    async def _load_station_inventory(
        self, station_ids: list[str]
    ) -> list[LocationChargingStation | Exception]:
        located = await self._locations_of(station_ids)
        inventories = await self._settle(_uids(located), self.location_stations.load)
        return [
            _station_in(sid, uid, inventories, lambda inventory: inventory)
            for sid, uid in zip(station_ids, located, strict=True)
        ]

    async def location_of_station(self, station_id: str) -> str:
        [uid] = await self._locations_of([station_id])
        if isinstance(uid, Exception):
            raise uid
        return uid

    async def _locations_of(self, station_ids: list[str]) -> list[str | Exception]:
        """Each station's locationUid: known from earlier payloads, else GET /stations.

        A station the upstream does not know is `NotFound`; a failed lookup keeps its own
        error, so an outage is never mistaken for a missing station.
        """
        unknown = {sid for sid in station_ids if sid not in self._station_location}
        looked_up = await self._settle(unknown, self.station_info.load) if unknown else {}

        def uid_of(sid: str) -> str | Exception:
            uid = self._station_location.get(sid)
            if uid is not None:
                return uid
            failure = looked_up.get(sid)
            return failure if isinstance(failure, Exception) else NotFound("Station", sid)

        return [uid_of(sid) for sid in station_ids]

    # --- EVSEs ------------------------------------------------------------------------
    @cached_property
    def evse(self) -> DataLoader[EvseKey, NetworkEvseStatus]:
        return _loader(self._load_evses)

    async def _load_evses(self, keys: list[EvseKey]) -> list[NetworkEvseStatus | Exception]:
        stations = await self._settle({sid for sid, _ in keys}, self.station_live.load)

        def pick(key: EvseKey) -> NetworkEvseStatus | Exception:
            station = stations[key[0]]
            if isinstance(station, Exception):
                return station
            match = next((e for e in station.evses if e.evse_id == key[1]), None)
            return match or NotFound("EVSE", "/".join(key))

        return [pick(key) for key in keys]

    async def evse_of_transaction(
        self, location_uid: str, evse_id: str, tx_id: str
    ) -> tuple[str, NetworkEvseStatus]:
        """The EVSE a network transaction ran on; its rows name no station.

        The location's status tree answers when the EVSE id is unique at the location or
        the EVSE still shows the session; otherwise the Transactions API names the station.
        """
        tree = await self.network_status.load(location_uid)
        candidates = [
            (station.station_id, evse)
            for station in tree.stations
            for evse in station.evses
            if evse.evse_id == evse_id
        ]
        running = [(sid, evse) for sid, evse in candidates if evse.tx_id == tx_id]
        if len(running) == 1:
            return running[0]
        if len(candidates) == 1:
            return candidates[0]
        detail = await self.transaction.load(tx_id)
        if detail.station_id is None:
            raise NotFound("EVSE", f"{location_uid}/{evse_id}")
        return detail.station_id, await self.evse.load((detail.station_id, evse_id))

    @cached_property
    def transaction(self) -> DataLoader[str, TransactionRecord]:
        """Transactions API rows by txId: no multi-id filter, so one call per id."""
        return _loader(self._load_transactions)

    async def _load_transactions(self, tx_ids: list[str]) -> list[TransactionRecord | Exception]:
        async def one(tx_id: str) -> TransactionRecord:
            return await self._upstream.get_transaction(
                tx_id, token=self.token, deadline=self._deadline
            )

        found = await self._settle(set(tx_ids), one)
        return [found[tx_id] for tx_id in tx_ids]

    # --- power --------------------------------------------------------------------------
    @cached_property
    def location_power(self) -> DataLoader[str, LocationPower]:
        return _loader(self._load_power, batch_size=contract.MAX_IDS_PER_CALL)

    async def _load_power(self, uids: list[str]) -> list[LocationPower | Exception]:
        whole = self._memo.get(WHOLE_NETWORK_POWER)
        rows = await whole if whole is not None else await self._fetch_power(uids)
        found = {row.location_uid: row for row in rows}
        # A location without a row draws no power right now: that is not an error.
        return [found.get(uid) or LocationPower(location_uid=uid) for uid in uids]

    def start_power(self, uids: list[str] | None) -> Awaitable[tuple[LocationPower, ...]]:
        """Power rows for these locations, or the whole network (None), once a request."""
        key = WHOLE_NETWORK_POWER if uids is None else ("currentlyUsedPower", tuple(uids))
        return self.memo(key, lambda: self._fetch_power(uids))

    async def power(self, uids: list[str] | None) -> tuple[LocationPower, ...]:
        return await self.start_power(uids)

    async def _fetch_power(self, uids: list[str] | None) -> tuple[LocationPower, ...]:
        return await self._upstream.currently_used_power(
            token=self.token, location_uids=uids, deadline=self._deadline
        )

    # --- helpers ------------------------------------------------------------------------
    @staticmethod
    async def _settle(keys: set[K], load: Callable[[K], Awaitable[V]]) -> dict[K, V | Exception]:
        """Load every key concurrently; a failure stays with its own key."""
        ordered = list(keys)
        results = await asyncio.gather(*(load(key) for key in ordered), return_exceptions=True)
        settled: dict[K, V | Exception] = {}
        for key, result in zip(ordered, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            settled[key] = result
        return settled
