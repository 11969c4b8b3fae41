"""Every guessed detail of the ChargEye contract, in one place.

`docs/upstream/locations-openapi.yaml` marks parts of the upstream as
`x-source: inferred`: paths the docs never show, query parameter names, how
arrays are encoded, how the last page is signalled. Each such guess lives
here, so that when the real upstream disagrees the fix is one line in one file.
Documented facts that the client relies on (wrapper keys, the bearer scheme)
sit here too, so the wire format reads top to bottom in one module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, Literal

# --- operations: (method, path template) ---------------------------------------------------
# Documented: POST/GET /locations, GET /auth/refreshAccessToken, GET /stations.
# Inferred: every other path, and PATCH as the update method.
REFRESH_ACCESS_TOKEN: Final = ("GET", "/auth/refreshAccessToken")
LIST_LOCATIONS: Final = ("GET", "/locations")
CREATE_LOCATION: Final = ("POST", "/locations")
GET_LOCATION: Final = ("GET", "/locations/{locationUid}")  # inferred path
UPDATE_LOCATION: Final = ("PATCH", "/locations/{locationUid}")  # inferred method and path
LOCATION_STATIONS: Final = ("GET", "/locations/{locationUid}/stations")  # inferred path
NETWORK_STATUS: Final = ("GET", "/locations/networkStatus")  # inferred path
CURRENTLY_USED_POWER: Final = ("GET", "/locations/currentlyUsedPower")  # inferred path
NETWORK_HARDWARE_ERRORS: Final = ("GET", "/locations/networkHardwareErrors")  # inferred path
PROBLEMATIC_SESSIONS: Final = ("GET", "/locations/problematicSessions")  # inferred path
NETWORK_TRANSACTIONS: Final = ("GET", "/locations/networkTransactions")  # inferred path
# Charging Stations API (documented path): the only lookup of stations by stationId.
LIST_STATIONS: Final = ("GET", "/stations")
# Transactions API. Documented path: the per-station list. Inferred: the get-one path
# (the docs name the operation `getTransaction` but show no URL).
STATION_TRANSACTIONS: Final = ("GET", "/chargingStations/{stationId}/transactions")
GET_TRANSACTION: Final = ("GET", "/transactions/{txId}")  # inferred path

# --- freshness (GATEWAY_RESPONSE_CACHE) -----------------------------------------------------
# How long an answer may be served again to the same credential, unless its Cache-Control
# says otherwise (response_cache.py; ChargEye is not known to send one). Only what changes
# by writes, not by the clock: a station inventory (make, firmware, connectors) for
# minutes, locations for half a minute. Errors, sessions, transactions and the live
# station view (/stations) move all the time and are never cached.
FRESH_FOR_S: Final[dict[tuple[str, str], float]] = {
    LIST_LOCATIONS: 30.0,
    GET_LOCATION: 30.0,
    LOCATION_STATIONS: 300.0,
}
# Network status and power move by the clock (and feed the live polls): cached only when
# GATEWAY_RESPONSE_CACHE_LIVE_S is above 0, for that long.
LIVE_ROUTES: Final[frozenset[tuple[str, str]]] = frozenset({NETWORK_STATUS, CURRENTLY_USED_POWER})
# What a write makes stale, for the credential that wrote (other tenants' entries age out).
STALE_AFTER: Final[dict[tuple[str, str], tuple[tuple[str, str], ...]]] = {
    CREATE_LOCATION: (LIST_LOCATIONS, GET_LOCATION, LOCATION_STATIONS),
    UPDATE_LOCATION: (LIST_LOCATIONS, GET_LOCATION, LOCATION_STATIONS),
}

# --- query parameters (all inferred except the two on /stations) ----------------------------
LOCATION_UIDS_PARAM: Final = "locationUids"
PAGINATION_TOKEN_PARAM: Final = "paginationToken"
START_DATE_PARAM: Final = "startDate"
END_DATE_PARAM: Final = "endDate"
TECHNICAL_FAIL_CLASSIFICATION_PARAM: Final = "technicalFailClassification"
STATION_IDS_PARAM: Final = "stationIds"  # documented name; encoding not stated
STATION_LOCATION_UID_PARAM: Final = "locationUid"  # documented
# Transactions API paging is DynamoDB-style: the answer's `lastEvaluatedKey` object goes
# back as the documented `exclusiveStartKey` string; JSON-encoding it is our guess.
EXCLUSIVE_START_KEY_PARAM: Final = "exclusiveStartKey"

# Array query parameters: "repeat" sends `k=a&k=b` (the OpenAPI default, our guess);
# "comma" sends `k=a,b`. The emulator accepts both.
ArrayEncoding = Literal["repeat", "comma"]
ARRAY_ENCODING: Final[ArrayEncoding] = "repeat"


def array_param(name: str, values: Sequence[str]) -> list[tuple[str, str]]:
    """Query pairs for one array parameter, encoded per `ARRAY_ENCODING`."""
    if ARRAY_ENCODING == "comma":
        return [(name, ",".join(values))]
    return [(name, value) for value in values]


def format_instant(value: datetime) -> str:
    """Inferred: instants go out as ISO 8601 UTC with millisecond precision and a `Z`.

    That is the form of every timestamp in the documented samples
    (`2023-05-12T15:37:00.000Z`). Naive datetimes are refused rather than guessed at.
    """
    if value.tzinfo is None:
        raise ValueError("refusing to send a naive datetime upstream")
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


# Ours (the contract gives no length): the longest id the upstream could know. Its ids
# are UUIDs (36 characters) and charger identities of a few dozen; an id past this is
# not looked up at all (it would only make an oversized URL).
MAX_ID_LENGTH: Final = 128


def possible_id(value: str) -> bool:
    """Whether `value` could be an upstream id: printable, no path separator, not too long."""
    return (
        0 < len(value) <= MAX_ID_LENGTH
        and value not in {".", ".."}
        and value.isprintable()
        and not any(ch in value for ch in "/\\")
    )


# How many ids one filtered call may carry. No limit is documented; this keeps URLs far
# below common 8 KiB proxy limits (uids are ~36 characters).
MAX_IDS_PER_CALL: Final = 100

# --- response wrapper keys (documented) ----------------------------------------------------
RESPONSE_PAGINATION_TOKEN: Final = "paginationToken"


def is_last_page(token: str | None) -> bool:
    """Inferred: a null, empty or absent `paginationToken` ends the walk."""
    return not token


# Inferred, and relied on: a `paginationToken` names the position after the last row of its
# page (keyset paging, as DynamoDB-style APIs do), not an offset. Where a GraphQL page ends
# exactly on an upstream page boundary, its cursor holds the next token alone, with no row
# key to resynchronise on (`gateway/paging.py`); rows arriving at the top of the list
# meanwhile do not move where a keyset token resumes. Were the tokens offsets, such a
# cursor could repeat rows, and the position would need the last row's key as well.


# Inferred: the upstream's page size is not documented and callers cannot set it. This is
# our guess at rows per page, used only to estimate what a query costs, never to page.
PAGE_SIZE_HINT: Final = 50
# Ours: sizes of a network the gateway has not seen yet, for the cost estimate only (it
# runs before any call, then learns each caller's real sizes). Generous on purpose: a
# depot can hold dozens of chargers, and OCPP numbers connectors 1..n per station, so EVSE
# ids repeat at any site with several stations.
LOCATIONS_HINT: Final = 1000
STATIONS_PER_LOCATION_HINT: Final = 20
EVSES_PER_STATION_HINT: Final = 4
# Our own bound, not the upstream's: a list the gateway filters after the call (rows the
# upstream cannot filter) reads at most this many upstream pages per GraphQL page, and the
# cost estimate charges such a list this many calls.
MAX_FILTERED_PAGES: Final = 10


# --- auth -----------------------------------------------------------------------------------
BEARER_SCHEME: Final = "Bearer"
