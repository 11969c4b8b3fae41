"""`StationIndex`: what a request has learnt about stations from the payloads it read.

Stations and EVSEs are looked up by id, but the upstream lists them by location. Every
payload that names a station and its location (a status tree, an inventory list, a
Charging Stations API row) is indexed here, so a later lookup by id costs no call. It
indexes answers already cached by the loaders; it never holds anything they do not.
"""

from __future__ import annotations

from gateway.upstream.models import NetworkEvseStatus, NetworkLocationStatus, NetworkStationStatus

EvseKey = tuple[str, str]  # (stationId, evseId): an EVSE id is unique only in its station


class StationIndex:
    def __init__(self) -> None:
        self.location_of: dict[str, str] = {}
        self.live: dict[str, NetworkStationStatus] = {}
        self.evses: dict[EvseKey, NetworkEvseStatus] = {}

    def clear(self) -> None:
        self.location_of.clear()
        self.live.clear()
        self.evses.clear()

    def learn_location(self, station_id: str, location_uid: str) -> None:
        self.location_of[station_id] = location_uid

    def learn_status(self, location: NetworkLocationStatus) -> None:
        """Index a status tree: its stations and EVSEs are now known by id."""
        for station in location.stations:
            self.location_of[station.station_id] = location.id
            self.live.setdefault(station.station_id, station)
            for evse in station.evses:
                self.evses.setdefault((station.station_id, evse.evse_id), evse)
