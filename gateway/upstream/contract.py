"""Every guessed detail of the ChargEye contract, in one place.

`docs/upstream/locations-openapi.yaml` marks parts of the upstream as
`x-source: inferred`: paths the docs never show, query parameter names, how
arrays are encoded, how the last page is signalled. Each such guess lives
here, so that when the real upstream disagrees the fix is one line in one file.
Documented facts that the client relies on (wrapper keys, the bearer scheme)
sit here too, so the wire format reads top to bottom in one module.
"""

from __future__ import annotations

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

# --- query parameters (all inferred except the two on /stations) ----------------------------
LOCATION_UIDS_PARAM: Final = "locationUids"
PAGINATION_TOKEN_PARAM: Final = "paginationToken"
START_DATE_PARAM: Final = "startDate"
END_DATE_PARAM: Final = "endDate"
TECHNICAL_FAIL_CLASSIFICATION_PARAM: Final = "technicalFailClassification"
STATION_IDS_PARAM: Final = "stationIds"  # documented name; encoding not stated
STATION_LOCATION_UID_PARAM: Final = "locationUid"  # documented

# Array query parameters: "repeat" sends `k=a&k=b` (the OpenAPI default, our guess);
# "comma" sends `k=a,b`. The emulator accepts both.
ArrayEncoding = Literal["repeat", "comma"]
ARRAY_ENCODING: Final[ArrayEncoding] = "repeat"

# How many ids one filtered call may carry. No limit is documented; this keeps URLs far
# below common 8 KiB proxy limits (uids are ~36 characters).
MAX_IDS_PER_CALL: Final = 100

# --- response wrapper keys (documented) ----------------------------------------------------
RESPONSE_PAGINATION_TOKEN: Final = "paginationToken"


def is_last_page(token: str | None) -> bool:
    """Inferred: a null, empty or absent `paginationToken` ends the walk."""
    return not token


# --- auth -----------------------------------------------------------------------------------
BEARER_SCHEME: Final = "Bearer"
# Documented lifetime of an access token from the refresh exchange.
ACCESS_TOKEN_LIFETIME_S: Final = 8 * 60 * 60

# --- errors (the error body format is not documented) ---------------------------------------
ERROR_MESSAGE_KEYS: Final = ("message", "error")
