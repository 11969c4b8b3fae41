"""The emulator's data: the seeded network plus the locations created or changed since and
what the live clock changed, and the queries every endpoint (and every test computing an
expected answer) goes through.

Visibility is decided here and only here: a row is visible to a tenant when its
`tenantIds` list that tenant; nested rows (stations, EVSEs, sessions, errors) follow the
location they belong to.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Collection, Mapping, Sequence
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
from .timeline import Timeline


@dataclass(frozen=True, slots=True)
class LocationPower:
    location_uid: str
    current_power_kw: float
    session_count: int


class Network:
    """Seeded records (shared, immutable) plus this emulator's own tables: the locations
    created or changed, and the live state and history the live clock moves on.

    Records stay frozen; a change swaps a new record into this network's tables, so
    emulators built from the same seed never see each other's changes.
    """

    def __init__(self, seed: NetworkSeed) -> None:
        self.seed = seed
        self.tenants: tuple[Tenant, ...] = seed.tenants
        self.stations: tuple[Station, ...] = seed.stations
        self._station_by_id = {s.station_id: s for s in seed.stations}
        self._stations_at: dict[str, list[Station]] = {}
        for station in seed.stations:
            self._stations_at.setdefault(station.location_uid, []).append(station)
        self.reset()

    def reset(self) -> None:
        """Back to the seeded network: forget created and changed locations, and every
        session, fault and error the live clock added since."""
        self._locations: dict[str, Location] = {
            location.uid: location for location in self.seed.locations
        }
        self._rng = random.Random(f"created-locations-{self.seed.seed}")
        self._evses_of: dict[str, list[Evse]] = {}
        self._evse_slot: dict[tuple[str, str], int] = {}  # where each sits in its station's
        for evse in self.seed.evses:
            outlets = self._evses_of.setdefault(evse.station_id, [])
            self._evse_slot[(evse.station_id, evse.evse_id)] = len(outlets)
            outlets.append(evse)
        self._set_history(self.seed.transactions)
        self._sessions: list[ProblematicSession] = list(self.seed.sessions)
        self._errors = Timeline(self.seed.hardware_errors, _alert_id)

    def _set_history(self, newest_first: Sequence[Transaction]) -> None:
        self._transactions = Timeline(newest_first, _tx_id)
        # Positions in the timeline, oldest first: a new session appends to its station's.
        self._positions_of: dict[str, list[int]] = {}
        self._latest: dict[tuple[str, str], int] = {}
        for position, tx in enumerate(reversed(newest_first)):
            self._positions_of.setdefault(tx.station_id, []).append(position)
            self._latest[(tx.station_id, tx.evse_id)] = position  # the newest one stays

    @property
    def evses(self) -> tuple[Evse, ...]:
        """Every EVSE as it is now, station by station."""
        return tuple(evse for s in self.stations for evse in self._evses_of[s.station_id])

    @property
    def transactions(self) -> Sequence[Transaction]:
        """Every transaction as it is now, newest first (ties by txId)."""
        return self._transactions

    @transactions.setter
    def transactions(self, newest_first: Sequence[Transaction]) -> None:
        """Replace the whole history (a test staging an arrival); the indexes follow."""
        self._set_history(newest_first)

    @property
    def sessions(self) -> Sequence[ProblematicSession]:
        """Problematic sessions, newest first (ties by txId)."""
        return self._sessions

    @property
    def hardware_errors(self) -> Sequence[HardwareError]:
        """Hardware errors as they are now, newest first (ties by alert id)."""
        return self._errors

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
        position = self._latest.get((station_id, evse_id))
        return None if position is None else self._transactions.at(position)

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
            for tx in self._transactions
            if tx.location_uid in visible
            and (start is None or tx.start >= start)
            and (end is None or tx.start < end)
            and (classifications is None or tx.classification in classifications)
        ]

    def transaction(self, tx_id: str) -> Transaction | None:
        return self._transactions.get(tx_id)

    def visible_transaction(self, tenant_id: str, tx_id: str) -> Transaction | None:
        """A transaction by id if the caller may see its location, else None."""
        tx = self._transactions.get(tx_id)
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
        rows = self._transactions.newest_first_at(self._positions_of.get(station_id, []))
        if start is None and end is None:
            return rows
        return [
            tx
            for tx in rows
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
            for session in self._sessions
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
            for error in self._errors
            if self._station_by_id[error.station_id].location_uid in visible
        ]

    # --- changes of the live clock ---------------------------------------------------------

    def put_evse(self, evse: Evse) -> None:
        """Swap in the new state of an EVSE (same station and evse id)."""
        self._evses_of[evse.station_id][self._evse_slot[(evse.station_id, evse.evse_id)]] = evse

    def add_transaction(self, tx: Transaction) -> None:
        """Record a session newer than every other: it goes to the top of every view."""
        if self._transactions and _newest_first(self._transactions[0]) <= _newest_first(tx):
            raise ValueError(f"transaction {tx.tx_id} is not the newest")
        position = self._transactions.add_newest(tx)
        self._positions_of.setdefault(tx.station_id, []).append(position)
        self._latest[(tx.station_id, tx.evse_id)] = position

    def update_transaction(self, tx: Transaction) -> None:
        """Swap in a new version of a transaction (a running one progressed or ended)."""
        self._transactions.replace(tx)

    def add_problematic_session(self, session: ProblematicSession) -> None:
        """File a session among the others by its start (it may have started a while ago)."""
        bisect.insort(self._sessions, session, key=_session_newest_first)

    def add_hardware_error(self, error: HardwareError) -> None:
        """Record an error raised after every other: it goes to the top of the view."""
        if self._errors and _error_newest_first(self._errors[0]) <= _error_newest_first(error):
            raise ValueError(f"hardware error {error.alert_id} is not the newest")
        self._errors.add_newest(error)

    def update_hardware_error(self, error: HardwareError) -> None:
        """Swap in a new version of an error (it cleared)."""
        self._errors.replace(error)

    def _location_visible(self, tenant_id: str, uid: str) -> bool:
        location = self._locations.get(uid)
        return location is not None and location.tenancy.visible_to(tenant_id)

    def _visible_uids(self, tenant_id: str, location_uids: Collection[str] | None) -> set[str]:
        return {location.uid for location in self.visible_locations(tenant_id, location_uids)}


# Orders of the newest-first views as ascending keys: later start first, then by id.
def _newest_first(tx: Transaction) -> tuple[float, str]:
    return (-tx.start.timestamp(), tx.tx_id)


def _session_newest_first(session: ProblematicSession) -> tuple[float, str]:
    return _newest_first(session.transaction)


def _error_newest_first(error: HardwareError) -> tuple[float, str]:
    return (-error.start.timestamp(), error.alert_id)


def _tx_id(tx: Transaction) -> str:
    return tx.tx_id


def _alert_id(error: HardwareError) -> str:
    return error.alert_id
