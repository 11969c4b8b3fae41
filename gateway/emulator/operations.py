"""The operationIds of the emulated API: the keys of counters, request logs and faults."""

from __future__ import annotations

from typing import Final

REFRESH_ACCESS_TOKEN: Final = "refreshAccessToken"
GET_LOCATIONS: Final = "getLocations"
POST_LOCATION: Final = "postLocation"
GET_LOCATION: Final = "getLocation"
PATCH_LOCATION: Final = "patchLocation"
GET_LOCATION_STATIONS: Final = "getLocationStations"
GET_NETWORK_STATUS: Final = "getNetworkStatus"
GET_CURRENTLY_USED_POWER: Final = "getCurrentlyUsedPower"
GET_NETWORK_HARDWARE_ERRORS: Final = "getNetworkHardwareErrors"
GET_PROBLEMATIC_SESSIONS: Final = "getProblematicSessions"
GET_NETWORK_TRANSACTIONS: Final = "getNetworkTransactions"
# Charging Stations API; its operationId is ours (the docs name none).
LIST_STATIONS: Final = "listStations"
# Transactions API: the per-station list (documented) and get-one (name secondary).
GET_TRANSACTIONS: Final = "getTransactions"
GET_TRANSACTION: Final = "getTransaction"

OPERATION_IDS: Final = frozenset(
    {
        REFRESH_ACCESS_TOKEN,
        GET_LOCATIONS,
        POST_LOCATION,
        GET_LOCATION,
        PATCH_LOCATION,
        GET_LOCATION_STATIONS,
        GET_NETWORK_STATUS,
        GET_CURRENTLY_USED_POWER,
        GET_NETWORK_HARDWARE_ERRORS,
        GET_PROBLEMATIC_SESSIONS,
        GET_NETWORK_TRANSACTIONS,
        LIST_STATIONS,
        GET_TRANSACTIONS,
        GET_TRANSACTION,
    }
)
