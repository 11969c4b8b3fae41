"""Handlers of the Transactions API: a station's transactions, and one transaction by id.

The station list pages DynamoDB-style rather than with a `paginationToken`: while rows
follow, the answer carries `lastEvaluatedKey`, an object naming the page's last row
(`txId`, `stationId` and the sort attribute `startTime`), and the client sends that
object back, JSON-encoded, as the `exclusiveStartKey` query string. Such a key is not
signed (the real one is plain data too), so it is checked instead: it must be well-formed
and name a transaction of the station in the path, else the answer is 400.

Both operations follow the station's location for visibility: an invisible station or
transaction answers 404, exactly like an unknown one.
"""

from __future__ import annotations

import bisect
import json
from datetime import datetime

from starlette.responses import Response

from . import wire
from .endpoint import ApiError, Call, json_response
from .network import Network
from .paging import SortKey
from .params import QueryError, parse_instant
from .records import Transaction

START_DATE = "startDate"
END_DATE = "endDate"
EXCLUSIVE_START_KEY = "exclusiveStartKey"
_KEY_FIELDS = frozenset({"txId", "stationId", "startTime"})


def _sort_key(tx: Transaction) -> SortKey:
    """Newest first, ties by txId: the order of `Network.station_transactions`."""
    return (-int(tx.start.timestamp() * 1000), tx.tx_id)


def _bad_key(reason: str) -> QueryError:
    return QueryError(f"Invalid {EXCLUSIVE_START_KEY}: {reason}")


def _start_after(text: str, station_id: str, network: Network) -> SortKey:
    """The sort key of the row an `exclusiveStartKey` names; QueryError (400) if it is
    garbled or names no transaction of this station."""
    try:
        key = json.loads(text)
    except ValueError:
        raise _bad_key("not JSON") from None
    if not isinstance(key, dict) or set(key) != _KEY_FIELDS:
        raise _bad_key(f"expected an object with exactly {', '.join(sorted(_KEY_FIELDS))}")
    if not all(isinstance(value, str) for value in key.values()):
        raise _bad_key("every field must be a string")
    if key["stationId"] != station_id:
        raise _bad_key("it belongs to another station")
    parse_instant(key["startTime"], f"{EXCLUSIVE_START_KEY}.startTime")
    tx = network.transaction(key["txId"])
    if (
        tx is None
        or tx.station_id != station_id
        or wire.format_instant(tx.start) != key["startTime"]
    ):
        raise _bad_key("it names no transaction of this station")
    return _sort_key(tx)


def _row(call: Call, tx: Transaction) -> wire.Row:
    network = call.state.network
    evse = next((e for e in network.evses_of(tx.station_id) if e.evse_id == tx.evse_id), None)
    return wire.transaction(tx, evse, network.location(tx.location_uid), call.state.now)


async def station_transactions(call: Call) -> Response:
    """`GET /chargingStations/{stationId}/transactions`: newest first, `startDate`
    inclusive and `endDate` exclusive on startTime; `summary` covers every row of the
    window, not only this page's."""
    query = call.query(START_DATE, END_DATE, EXCLUSIVE_START_KEY)
    start: datetime | None = query.instant(START_DATE)
    end: datetime | None = query.instant(END_DATE)
    start_key = query.text(EXCLUSIVE_START_KEY)
    station_id = call.request.path_params["stationId"]
    network = call.state.network
    if network.visible_station(call.tenant_id, station_id) is None:
        raise ApiError(404, f"Charging station '{station_id}' not found")
    rows = network.station_transactions(call.tenant_id, station_id, start, end)
    first = 0
    if start_key is not None:
        after = _start_after(start_key, station_id, network)
        first = bisect.bisect_right([_sort_key(tx) for tx in rows], after)
    size = call.state.page_size
    chunk = rows[first : first + size]
    body: dict[str, object] = {
        "transactions": [_row(call, tx) for tx in chunk],
        "summary": wire.transactions_summary(rows, call.state.now),
    }
    if first + size < len(rows):
        body["lastEvaluatedKey"] = wire.transaction_key(chunk[-1])
    return json_response(body)


async def get_transaction(call: Call) -> Response:
    """`GET /transactions/{txId}` (path inferred): `{"transaction": {...}}`.

    It takes no query parameters and ignores any it is sent: the contract gives it no 400.
    """
    tx_id = call.request.path_params["txId"]
    tx = call.state.network.visible_transaction(call.tenant_id, tx_id)
    if tx is None:
        raise ApiError(404, f"Transaction '{tx_id}' not found")
    return json_response({"transaction": _row(call, tx)})
