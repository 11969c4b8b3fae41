"""The emulator's data: the seeded network plus the locations created or changed since,
and the queries every endpoint (and every test computing an expected answer) goes through.

Visibility is decided here and only here: a row is visible to a tenant when its
`tenantIds` list that tenant; nested rows (stations, EVSEs, sessions, errors) follow the
location they belong to.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .draw import new_uuid
from .records import (
    Evse,
    HardwareError,
    Label,
    Location,
    ProblematicSession,
    Station,
    Tenancy,
    Tenant,
    Transaction,
)
from .seed import NetworkSeed


@dataclass(frozen=True, slots=True)
class LocationPower:
    location_uid: str
    current_power_kw: float
    session_count: int


class Network:
    """Seeded records (shared, immutable) plus this emulator's own location table."""

    def __init__(self, seed: NetworkSeed) -> None:
        self.seed = seed
        self.tenants: tuple[Tenant, ...] = seed.tenants
        self.stations: tuple[Station, ...] = seed.stations
        self.evses: tuple[Evse, ...] = seed.evses
        self.transactions: tuple[Transaction, ...] = seed.transactions  # newest first
        self.sessions: tuple[ProblematicSession, ...] = seed.sessions  # newest first
        self.hardware_errors: tuple[HardwareError, ...] = seed.hardware_errors  # newest first
        self._station_by_id = {s.station_id: s for s in seed.stations}
        self._stations_at: dict[str, list[Station]] = {}
        for station in seed.stations:
            self._stations_at.setdefault(station.location_uid, []).append(station)
        self._evses_of: dict[str, list[Evse]] = {}
        for evse in seed.evses:
            self._evses_of.setdefault(evse.station_id, []).append(evse)
        self._transaction_by_id = {tx.tx_id: tx for tx in seed.transactions}
        self._transactions_of: dict[str, list[Transaction]] = {}  # newest first
        for tx in seed.transactions:
            self._transactions_of.setdefault(tx.station_id, []).append(tx)
        self._latest: dict[tuple[str, str], Transaction] = {}
        for tx in reversed(seed.transactions):  # oldest first, so the newest one stays
            self._latest[(tx.station_id, tx.evse_id)] = tx
        self._locations: dict[str, Location] = {}
        self._rng = random.Random()
        self.reset()

    def reset(self) -> None:
        """Forget created and changed locations."""
        self._locations = {location.uid: location for location in self.seed.locations}
        self._rng = random.Random(f"created-locations-{self.seed.seed}")

    # --- locations ------------------------------------------------------------------------

    @property
    def locations(self) -> list[Location]:
        """Every location, seeded and created, in arrival order (visible or not)."""
        return list(self._locations.values())

    def location(self, uid: str) -> Location | None:
        return self._locations.get(uid)

    def visible_location(self, tenant_id: str, uid: str) -> Location | None:
        location = self._locations.get(uid)
        if location is None or not location.tenancy.visible_to(tenant_id):
            return None
        return location

    def visible_locations(
        self, tenant_id: str, location_uids: Collection[str] | None = None
    ) -> list[Location]:
        return [
            location
            for location in self._locations.values()
            if location.tenancy.visible_to(tenant_id)
            and (location_uids is None or location.uid in location_uids)
        ]

    def create_location(
        self, tenant_id: str, fields: Mapping[str, Any], station_id: str | None = None
    ) -> Location:
        """Store a new location; its tenancy is the caller's, or that of `station_id`."""
        tenancy = Tenancy(cpo=tenant_id, emsp=tenant_id, maintenance=None, ids=(tenant_id,))
        if station_id is not None:
            station = self.visible_station(tenant_id, station_id)
            if station is None:
                raise KeyError(station_id)
            tenancy = station.tenancy
        location = Location(
            uid=new_uuid(self._rng), seq=len(self._locations), tenancy=tenancy, **fields
        )
        self._locations[location.uid] = location
        return location

    def update_location(self, tenant_id: str, uid: str, changes: Mapping[str, Any]) -> Location:
        """Apply a partial update; labels the caller cannot see survive it."""
        location = self._locations[uid]
        if "labels" in changes:
            hidden = [label for label in location.labels or () if not label.visible_to(tenant_id)]
            given: tuple[Label, ...] = changes["labels"] or ()
            changes = {**changes, "labels": (*hidden, *given) or None}
        updated = replace(location, **changes)
        self._locations[uid] = updated
        return updated

    # --- stations and EVSEs ---------------------------------------------------------------

    def station(self, station_id: str) -> Station | None:
        return self._station_by_id.get(station_id)

    def visible_station(self, tenant_id: str, station_id: str) -> Station | None:
        station = self._station_by_id.get(station_id)
        if station is None or not self._location_visible(tenant_id, station.location_uid):
            return None
        return station

    def stations_at(self, location_uid: str) -> list[Station]:
        return list(self._stations_at.get(location_uid, ()))

    def visible_stations(
        self,
        tenant_id: str,
        location_uids: Collection[str] | None = None,
        station_ids: Collection[str] | None = None,
    ) -> list[Station]:
        """Stations in location arrival order, then in their order at the location."""
        return [
            station
            for location in self.visible_locations(tenant_id, location_uids)
            for station in self._stations_at.get(location.uid, ())
            if station_ids is None or station.station_id in station_ids
        ]

    def evses_of(self, station_id: str) -> list[Evse]:
        return list(self._evses_of.get(station_id, ()))

    def latest_transaction(self, station_id: str, evse_id: str) -> Transaction | None:
        """The running session on the EVSE, else its newest ended one."""
        return self._latest.get((station_id, evse_id))

    def station_power_kw(self, station_id: str) -> float:
        return round(sum(evse.power_kw for evse in self._evses_of.get(station_id, ())), 1)

    # --- network views --------------------------------------------------------------------

    def currently_used_power(
        self, tenant_id: str, location_uids: Collection[str] | None = None
    ) -> list[LocationPower]:
        """One row per visible location: output now and the sessions running now."""
        rows = []
        for location in self.visible_locations(tenant_id, location_uids):
            evses = [
                evse
                for station in self._stations_at.get(location.uid, ())
                for evse in self._evses_of[station.station_id]
            ]
            running = sum(1 for evse in evses if evse.tx_id is not None)
            power = round(sum(evse.power_kw for evse in evses), 1)
            rows.append(LocationPower(location.uid, power, running))
        return rows

    def visible_transactions(
        self,
        tenant_id: str,
        location_uids: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        classifications: Collection[str] | None = None,
    ) -> list[Transaction]:
        """Newest first (ties by txId); `start` inclusive and `end` exclusive on startTime."""
        visible = self._visible_uids(tenant_id, location_uids)
        return [
            tx
            for tx in self.transactions
            if tx.location_uid in visible
            and (start is None or tx.start >= start)
            and (end is None or tx.start < end)
            and (classifications is None or tx.classification in classifications)
        ]

    def transaction(self, tx_id: str) -> Transaction | None:
        return self._transaction_by_id.get(tx_id)

    def visible_transaction(self, tenant_id: str, tx_id: str) -> Transaction | None:
        """A transaction by id if the caller may see its location, else None."""
        tx = self._transaction_by_id.get(tx_id)
        if tx is None or not self._location_visible(tenant_id, tx.location_uid):
            return None
        return tx

    def station_transactions(
        self,
        tenant_id: str,
        station_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Transaction]:
        """One station's transactions, ordered and windowed like `visible_transactions`;
        empty when the station is unknown or invisible."""
        if self.visible_station(tenant_id, station_id) is None:
            return []
        return [
            tx
            for tx in self._transactions_of.get(station_id, ())
            if (start is None or tx.start >= start) and (end is None or tx.start < end)
        ]

    def visible_sessions(
        self,
        tenant_id: str,
        location_uids: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[ProblematicSession]:
        """Newest first (ties by txId), filtered like transactions."""
        visible = self._visible_uids(tenant_id, location_uids)
        return [
            session
            for session in self.sessions
            if session.transaction.location_uid in visible
            and (start is None or session.transaction.start >= start)
            and (end is None or session.transaction.start < end)
        ]

    def visible_hardware_errors(
        self, tenant_id: str, location_uids: Collection[str] | None = None
    ) -> list[HardwareError]:
        """Newest first (ties by alert id); placed at a location through their station."""
        visible = self._visible_uids(tenant_id, location_uids)
        return [
            error
            for error in self.hardware_errors
            if self._station_by_id[error.station_id].location_uid in visible
        ]

    def _location_visible(self, tenant_id: str, uid: str) -> bool:
        location = self._locations.get(uid)
        return location is not None and location.tenancy.visible_to(tenant_id)

    def _visible_uids(self, tenant_id: str, location_uids: Collection[str] | None) -> set[str]:
        return {location.uid for location in self.visible_locations(tenant_id, location_uids)}
