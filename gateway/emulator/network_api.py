"""Handlers of the five network views: status, power in use, hardware errors, problematic
sessions and transactions. All but power are paged with `paginationToken`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from starlette.responses import Response

from . import operations as ops
from . import wire
from .endpoint import Call, json_response
from .paging import Page, SortKey
from .params import Query
from .records import HardwareError, Location, ProblematicSession, Transaction

T = TypeVar("T")

LOCATION_UIDS = "locationUids"
PAGINATION_TOKEN = "paginationToken"
START_DATE = "startDate"
END_DATE = "endDate"
CLASSIFICATION = "technicalFailClassification"
CLASSIFICATIONS = (
    "ABRUPTLY_CANCELED",
    "ABRUPT_STOP",
    "HANDSHAKE_CANCELED",
    "HANDSHAKE_FAIL",
    "INVALID_SESSION",
    "INVALID_USER",
    "LOW_POWER",
    "NOT_IDENTIFIED",
    "NOT_PLUGGED_IN",
    "OK",
)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# Sort keys, ascending; newest-first views negate the time and break ties by id.
def _location_key(location: Location) -> SortKey:
    return (location.seq,)


def _error_key(error: HardwareError) -> SortKey:
    return (-_ms(error.start), error.alert_id)


def _session_key(session: ProblematicSession) -> SortKey:
    return (-_ms(session.transaction.start), session.transaction.tx_id)


def _transaction_key(tx: Transaction) -> SortKey:
    return (-_ms(tx.start), tx.tx_id)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else wire.format_instant(moment)


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def _page(
    call: Call,
    query: Query,
    operation_id: str,
    rows: Sequence[T],
    key: Callable[[T], SortKey],
    binding: list[object],
) -> Page[T]:
    """One page of `rows`; the token is bound to the caller's tenant and its filter."""
    state = call.state
    return state.pager.page(
        rows,
        key,
        state.page_size,
        query.text(PAGINATION_TOKEN),
        operation_id,
        [call.tenant_id, *binding],
    )


def _with_token(
    body: dict[str, object], page: Page[T], last: str | None = None
) -> dict[str, object]:
    """Add the next page's token; on the last page add `last` if given, else nothing."""
    token = page.next_token if page.next_token is not None else last
    if token is not None:
        body[PAGINATION_TOKEN] = token
    return body


async def network_status(call: Call) -> Response:
    query = call.query(LOCATION_UIDS, PAGINATION_TOKEN)
    uids = query.array(LOCATION_UIDS)
    network = call.state.network
    locations = network.visible_locations(call.tenant_id, uids)
    page = _page(call, query, ops.GET_NETWORK_STATUS, locations, _location_key, [_sorted(uids)])
    rows = [
        wire.network_location(
            location,
            [
                (station, network.evses_of(station.station_id))
                for station in network.stations_at(location.uid)
            ],
        )
        for location in page.rows
    ]
    return json_response(_with_token({"locations": rows}, page))


async def currently_used_power(call: Call) -> Response:
    uids = call.query(LOCATION_UIDS).array(LOCATION_UIDS)
    rows = [
        wire.location_power(row.location_uid, row.current_power_kw, row.session_count)
        for row in call.state.network.currently_used_power(call.tenant_id, uids)
    ]
    return json_response({"locations": rows})


async def hardware_errors(call: Call) -> Response:
    query = call.query(LOCATION_UIDS, PAGINATION_TOKEN)
    uids = query.array(LOCATION_UIDS)
    errors = call.state.network.visible_hardware_errors(call.tenant_id, uids)
    page = _page(call, query, ops.GET_NETWORK_HARDWARE_ERRORS, errors, _error_key, [_sorted(uids)])
    return json_response(_with_token({"errors": [wire.hardware_error(e) for e in page.rows]}, page))


async def problematic_sessions(call: Call) -> Response:
    query = call.query(LOCATION_UIDS, START_DATE, END_DATE, PAGINATION_TOKEN)
    uids = query.array(LOCATION_UIDS)
    start, end = query.instant(START_DATE), query.instant(END_DATE)
    sessions = call.state.network.visible_sessions(call.tenant_id, uids, start, end)
    page = _page(
        call,
        query,
        ops.GET_PROBLEMATIC_SESSIONS,
        sessions,
        _session_key,
        [_sorted(uids), _iso(start), _iso(end)],
    )
    body: dict[str, object] = {"sessions": [wire.problematic_session(s) for s in page.rows]}
    # The contract marks paginationToken required here: the last page carries "".
    return json_response(_with_token(body, page, last=""))


async def network_transactions(call: Call) -> Response:
    query = call.query(LOCATION_UIDS, START_DATE, END_DATE, CLASSIFICATION, PAGINATION_TOKEN)
    uids = query.array(LOCATION_UIDS)
    start, end = query.instant(START_DATE), query.instant(END_DATE)
    classes = query.array(CLASSIFICATION, CLASSIFICATIONS)
    transactions = call.state.network.visible_transactions(
        call.tenant_id, uids, start, end, classes
    )
    page = _page(
        call,
        query,
        ops.GET_NETWORK_TRANSACTIONS,
        transactions,
        _transaction_key,
        [_sorted(uids), _iso(start), _iso(end), _sorted(classes)],
    )
    body: dict[str, object] = {"transactions": [wire.network_transaction(tx) for tx in page.rows]}
    return json_response(_with_token(body, page))
