"""`UpstreamClient`: one typed async method per ChargEye operation.

The client shares one pooled `httpx.AsyncClient` between all callers and tenants, so it
holds no credentials: every method takes the caller's `token` and sends it on that call
only. Answers are decoded from the raw bytes straight into the frozen records of
`gateway.upstream.models`; failures arrive as the typed errors of `gateway.errors`.

Every method also takes an optional `deadline` (a `time.monotonic()` instant, normally
the GraphQL request's): retries stop, and a call in flight is cut off, when it passes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from gateway.errors import NotFound, UpstreamProtocolError, UpstreamRejected
from gateway.upstream import contract
from gateway.upstream.breaker import BreakerPolicy, CircuitState
from gateway.upstream.models import (
    AccessToken,
    CreateLocationRequest,
    CreateLocationResponse,
    CurrentlyUsedPower,
    HardwareError,
    HardwareErrorsPage,
    LocationChargingStation,
    LocationEnvelope,
    LocationInput,
    LocationList,
    LocationPower,
    LocationRow,
    LocationStationList,
    NetworkLocationStatus,
    NetworkStatusPage,
    NetworkStatusSession,
    NetworkStatusTransaction,
    NetworkTransactionsPage,
    ProblematicSessionsPage,
    StationInfo,
    StationList,
    StationTransactionsPage,
    SuccessResponse,
    TechnicalFailClassification,
    TransactionEnvelope,
    TransactionRecord,
    UpdateLocationRequest,
    decoder_for,
    encode,
)
from gateway.upstream.observe import CallObserver
from gateway.upstream.pages import Page, walk
from gateway.upstream.response_cache import ResponseCache
from gateway.upstream.retry import RetryPolicy
from gateway.upstream.transport import (
    DEFAULT_MAX_BODY_BYTES,
    Operation,
    QueryParams,
    Sender,
    Throttled,
    build_http_client,
)

__all__ = [
    "BreakerPolicy",
    "CircuitState",
    "Page",
    "RetryPolicy",
    "UpstreamClient",
    "build_http_client",
    "walk",
]

logger: Final = logging.getLogger("gateway.upstream")

T = TypeVar("T")
A = TypeVar("A")

REFRESH_ACCESS_TOKEN: Final = Operation.of("refreshAccessToken", contract.REFRESH_ACCESS_TOKEN)
GET_LOCATIONS: Final = Operation.of("getLocations", contract.LIST_LOCATIONS)
POST_LOCATION: Final = Operation.of("postLocation", contract.CREATE_LOCATION)
GET_LOCATION: Final = Operation.of("getLocation", contract.GET_LOCATION)
PATCH_LOCATION: Final = Operation.of("patchLocation", contract.UPDATE_LOCATION)
GET_LOCATION_STATIONS: Final = Operation.of("getLocationStations", contract.LOCATION_STATIONS)
GET_NETWORK_STATUS: Final = Operation.of("getNetworkStatus", contract.NETWORK_STATUS)
GET_CURRENTLY_USED_POWER: Final = Operation.of(
    "getCurrentlyUsedPower", contract.CURRENTLY_USED_POWER
)
GET_NETWORK_HARDWARE_ERRORS: Final = Operation.of(
    "getNetworkHardwareErrors", contract.NETWORK_HARDWARE_ERRORS
)
GET_PROBLEMATIC_SESSIONS: Final = Operation.of(
    "getProblematicSessions", contract.PROBLEMATIC_SESSIONS
)
GET_NETWORK_TRANSACTIONS: Final = Operation.of(
    "getNetworkTransactions", contract.NETWORK_TRANSACTIONS
)
LIST_STATIONS: Final = Operation.of("listStations", contract.LIST_STATIONS)
GET_STATION_TRANSACTIONS: Final = Operation.of("getTransactions", contract.STATION_TRANSACTIONS)
GET_TRANSACTION: Final = Operation.of("getTransaction", contract.GET_TRANSACTION)

OPERATIONS: Final = (
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
    GET_STATION_TRANSACTIONS,
    GET_TRANSACTION,
)


class UpstreamClient:
    """Typed access to the ChargEye REST API over a shared, credential-free httpx client.

    `http` is owned by the caller (normally the app's lifespan), which also sets its
    timeouts (see `build_http_client`). `max_concurrency` bounds the requests in flight
    from this client; `policy` governs retries of idempotent GETs; `max_body_bytes` caps
    each answer read; `breaker` sets when an operation's circuit opens and for how long
    (`BreakerPolicy(failure_threshold=0)` turns breakers off); `clock` is the breakers'.
    `on_throttled` hears of every 429 (see `Throttled`).
    Make one per process: its breakers are then the process's, shared by every tenant.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        policy: RetryPolicy | None = None,
        max_concurrency: int = 32,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        breaker: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        observers: Sequence[CallObserver] | None = None,
        cache: ResponseCache | None = None,
        on_throttled: Throttled | None = None,
    ) -> None:
        self._sender = Sender(
            http,
            base_url,
            policy or RetryPolicy(),
            max_concurrency,
            max_body_bytes=max_body_bytes,
            breaker=breaker,
            clock=clock,
            observers=observers,
            cache=cache,
            on_throttled=on_throttled,
        )

    @property
    def policy(self) -> RetryPolicy:
        return self._sender.policy

    def circuit_states(self) -> dict[str, CircuitState]:
        """operationId → "closed", "open" or "half_open", for every operation: a snapshot
        for readiness reports (a `CircuitState` is a `str`)."""
        return {op.id: self._sender.circuit_state(op) for op in OPERATIONS}

    @property
    def last_success(self) -> float | None:
        """`time.monotonic()` of the last 2xx answer from the upstream, if any."""
        return self._sender.last_success

    async def probe(self, *, timeout_s: float = 2.0) -> bool:
        """Whether the upstream answers at all: `GET /locations` without a token, once.

        Any answer below 500 (a 401 above all) shows the upstream is up and reachable; a
        5xx, a timeout or a refused connection shows it is not. Nothing is retried, and
        no tenant's credentials are used.
        """
        return await self._sender.probe(GET_LOCATIONS, timeout_s=timeout_s)

    # --- auth ------------------------------------------------------------------------

    async def refresh_access_token(
        self, refresh_token: str, *, deadline: float | None = None
    ) -> AccessToken:
        """Exchange the organisation's refresh token for an access JWT and its expiry."""
        op = REFRESH_ACCESS_TOKEN
        response = await self._sender.send(op, token=refresh_token, deadline=deadline)
        return _decode(op, response, AccessToken)

    # --- locations -------------------------------------------------------------------

    async def list_locations(
        self, *, token: str, deadline: float | None = None
    ) -> tuple[LocationRow, ...]:
        """Every location the token may see (the upstream does not paginate this call)."""
        op = GET_LOCATIONS
        response = await self._sender.send(op, token=token, deadline=deadline)
        return _decode(op, response, LocationList).locations

    async def get_location(
        self, uid: str, *, token: str, deadline: float | None = None
    ) -> LocationRow:
        """One location by its locationUid; `NotFound` when it is unknown or invisible."""
        op = GET_LOCATION
        response = await self._sender.send(
            op,
            token=token,
            path=_location_path(op, uid),
            not_found=("Location", uid),
            deadline=deadline,
        )
        location = _decode(op, response, LocationEnvelope).location
        if location is None:  # the contract allows an empty object for an invisible row
            raise NotFound("Location", uid, operation=op.id)
        return location

    async def create_location(
        self,
        input: LocationInput,
        *,
        token: str,
        station_id: str | None = None,
        deadline: float | None = None,
    ) -> str:
        """Create a location and return its new id. Sent exactly once, never retried."""
        op = POST_LOCATION
        body = CreateLocationRequest(
            location=input, station_id=msgspec.UNSET if station_id is None else station_id
        )
        response = await self._sender.send(op, token=token, body=encode(body), deadline=deadline)
        answer = _decode(op, response, CreateLocationResponse)
        if answer.success is not True or not answer.id:
            raise UpstreamRejected(f"upstream {op.id} did not confirm the create", operation=op.id)
        return answer.id

    async def update_location(
        self, uid: str, input: LocationInput, *, token: str, deadline: float | None = None
    ) -> None:
        """Partially update a location: UNSET fields are kept, None fields are cleared.

        Sent exactly once, never retried.
        """
        op = PATCH_LOCATION
        response = await self._sender.send(
            op,
            token=token,
            path=_location_path(op, uid),
            body=encode(UpdateLocationRequest(location=input)),
            not_found=("Location", uid),
            deadline=deadline,
        )
        if _decode(op, response, SuccessResponse).success is not True:
            raise UpstreamRejected(f"upstream {op.id} did not confirm the update", operation=op.id)

    async def location_stations(
        self, uid: str, *, token: str, deadline: float | None = None
    ) -> tuple[LocationChargingStation, ...]:
        """The station inventory of one location (not paginated upstream)."""
        op = GET_LOCATION_STATIONS
        response = await self._sender.send(
            op,
            token=token,
            path=_location_path(op, uid),
            not_found=("Location", uid),
            deadline=deadline,
        )
        return _decode(op, response, LocationStationList).stations

    # --- network views ---------------------------------------------------------------

    async def network_status_page(
        self,
        *,
        token: str,
        location_uids: Sequence[str] | None = None,
        page_token: str | None = None,
        deadline: float | None = None,
    ) -> Page[NetworkLocationStatus]:
        """One page of the status tree (locations → stations → EVSEs).

        `location_uids=None` asks for every visible location; an empty sequence asks for
        none and answers an empty last page without an upstream call.
        """
        op = GET_NETWORK_STATUS
        params = _filter_params(location_uids)
        if params is None:
            return Page(rows=())
        answer = await self._page(op, NetworkStatusPage, token, params, page_token, deadline)
        return Page.of(answer.locations, answer.pagination_token)

    async def currently_used_power(
        self,
        *,
        token: str,
        location_uids: Sequence[str] | None = None,
        deadline: float | None = None,
    ) -> tuple[LocationPower, ...]:
        """Power in use now, per location. Long uid lists are split into concurrent calls
        of at most `contract.MAX_IDS_PER_CALL` ids each."""
        op = GET_CURRENTLY_USED_POWER

        async def fetch(params: QueryParams) -> tuple[LocationPower, ...]:
            response = await self._sender.send(op, token=token, params=params, deadline=deadline)
            return _decode(op, response, CurrentlyUsedPower).locations

        return await _chunked(fetch, contract.LOCATION_UIDS_PARAM, location_uids)

    async def hardware_errors_page(
        self,
        *,
        token: str,
        location_uids: Sequence[str] | None = None,
        page_token: str | None = None,
        deadline: float | None = None,
    ) -> Page[HardwareError]:
        """One page of hardware error records (rows carry a stationId, no location)."""
        op = GET_NETWORK_HARDWARE_ERRORS
        params = _filter_params(location_uids)
        if params is None:
            return Page(rows=())
        answer = await self._page(op, HardwareErrorsPage, token, params, page_token, deadline)
        return Page.of(answer.errors, answer.pagination_token)

    async def problematic_sessions_page(
        self,
        *,
        token: str,
        location_uids: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        page_token: str | None = None,
        deadline: float | None = None,
    ) -> Page[NetworkStatusSession]:
        """One page of problematic sessions, optionally within [start, end)."""
        op = GET_PROBLEMATIC_SESSIONS
        params = _filter_params(location_uids)
        if params is None:
            return Page(rows=())
        _add_window(params, start, end)
        answer = await self._page(op, ProblematicSessionsPage, token, params, page_token, deadline)
        return Page.of(answer.sessions, answer.pagination_token)

    async def network_transactions_page(
        self,
        *,
        token: str,
        location_uids: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        classifications: Sequence[TechnicalFailClassification] | None = None,
        page_token: str | None = None,
        deadline: float | None = None,
    ) -> Page[NetworkStatusTransaction]:
        """One page of the network's transactions, optionally by window and classification.

        An empty `classifications` sequence, like an empty `location_uids`, matches
        nothing and answers an empty page without an upstream call.
        """
        op = GET_NETWORK_TRANSACTIONS
        params = _filter_params(location_uids)
        if params is None or (classifications is not None and not classifications):
            return Page(rows=())
        _add_window(params, start, end)
        if classifications is not None:
            if TechnicalFailClassification.UNKNOWN in classifications:
                raise ValueError("UNKNOWN is not a classification the upstream can filter by")
            values = [c.value for c in classifications]
            params += contract.array_param(contract.TECHNICAL_FAIL_CLASSIFICATION_PARAM, values)
        answer = await self._page(op, NetworkTransactionsPage, token, params, page_token, deadline)
        return Page.of(answer.transactions, answer.pagination_token)

    # --- Charging Stations API -------------------------------------------------------

    async def list_stations(
        self,
        *,
        token: str,
        station_ids: Sequence[str] | None = None,
        location_uid: str | None = None,
        deadline: float | None = None,
    ) -> tuple[StationInfo, ...]:
        """Live station state, filtered by station ids and/or one location.

        Long id lists are split into concurrent calls of at most
        `contract.MAX_IDS_PER_CALL` ids each; an empty list answers `()` without a call.
        """
        op = LIST_STATIONS
        extra: QueryParams = []
        if location_uid is not None:
            extra.append((contract.STATION_LOCATION_UID_PARAM, location_uid))

        async def fetch(params: QueryParams) -> tuple[StationInfo, ...]:
            response = await self._sender.send(
                op, token=token, params=params + extra, deadline=deadline
            )
            return _decode(op, response, StationList).stations

        return await _chunked(fetch, contract.STATION_IDS_PARAM, station_ids)

    # --- Transactions API -------------------------------------------------------------

    async def station_transactions_page(
        self,
        station_id: str,
        *,
        token: str,
        start: datetime | None = None,
        end: datetime | None = None,
        page_token: str | None = None,
        deadline: float | None = None,
    ) -> Page[TransactionRecord]:
        """One page of a station's transactions (rows name their station and EVSE).

        The page token is the JSON text of the upstream's `lastEvaluatedKey`.
        """
        op = GET_STATION_TRANSACTIONS
        path = op.path.format(stationId=_path_segment(op, "Station", station_id))
        params: QueryParams = []
        _add_window(params, start, end)
        if page_token:
            params.append((contract.EXCLUSIVE_START_KEY_PARAM, page_token))
        response = await self._sender.send(
            op,
            token=token,
            path=path,
            params=params,
            not_found=("Station", station_id),
            deadline=deadline,
        )
        answer = _decode(op, response, StationTransactionsPage)
        key = bytes(answer.last_evaluated_key)
        next_token = key.decode() if key != b"null" else None
        if next_token is not None and next_token == page_token:
            raise UpstreamProtocolError(
                f"upstream {op.id} answered its own start key as the next one", operation=op.id
            )
        return Page.of(answer.transactions, next_token)

    async def get_transaction(
        self, tx_id: str, *, token: str, deadline: float | None = None
    ) -> TransactionRecord:
        """One transaction by its txId; `NotFound` when unknown or invisible."""
        op = GET_TRANSACTION
        response = await self._sender.send(
            op,
            token=token,
            path=op.path.format(txId=_path_segment(op, "Transaction", tx_id)),
            not_found=("Transaction", tx_id),
            deadline=deadline,
        )
        transaction = _decode(op, response, TransactionEnvelope).transaction
        if transaction is None:
            raise NotFound("Transaction", tx_id, operation=op.id)
        return transaction

    async def _page(
        self,
        op: Operation,
        answer: type[A],
        token: str,
        params: QueryParams,
        page_token: str | None,
        deadline: float | None,
    ) -> A:
        """One page of a `paginationToken` view, decoded into its wrapper record."""
        _add_page_token(params, page_token)
        response = await self._sender.send(op, token=token, params=params, deadline=deadline)
        return _decode(op, response, answer)

    # --- walker: every row of a paged view, fetching pages only on demand --------------

    def iter_rows(
        self, page: Callable[..., Awaitable[Page[T]]], /, **arguments: Any
    ) -> AsyncGenerator[T, None]:
        """Every row of a paged view, in order: `page` is one of the `*_page` methods above
        and `arguments` its arguments but `page_token`. A page is fetched only when its
        rows are reached (see `walk`)."""

        async def fetch(page_token: str | None) -> Page[T]:
            return await page(page_token=page_token, **arguments)

        return walk(fetch)


# --- helpers -------------------------------------------------------------------------------


def _decode(op: Operation, response: httpx.Response, type_: type[T]) -> T:
    try:
        return decoder_for(type_).decode(response.content)
    except msgspec.DecodeError as exc:  # also msgspec.ValidationError, its subclass
        # msgspec's message names the JSON path and the expected type; it is logged
        # for operators but kept out of the error a GraphQL client may see.
        logger.warning(
            "upstream %s answered %d with a body that does not match the contract: %s",
            op.id,
            response.status_code,
            exc,
        )
        raise UpstreamProtocolError(
            f"upstream {op.id} answered with a body that does not match the contract",
            operation=op.id,
        ) from exc


def _location_path(op: Operation, uid: str) -> str:
    return op.path.format(locationUid=_path_segment(op, "Location", uid))


def _path_segment(op: Operation, kind: str, key: str) -> str:
    """One id as a path segment; an id must never reach another route.

    Percent-encoding alone is not enough: servers commonly decode `%2F` back into `/`
    before routing (uvicorn does), so `../stations` would still climb out of its segment.
    No real id holds a slash, a backslash or a control character, so such an id is simply
    not found, without a call.
    """
    if not contract.possible_id(key):
        raise NotFound(kind, key[: contract.MAX_ID_LENGTH], operation=op.id)
    return quote(key, safe="")


def _ids(values: Sequence[str]) -> list[str]:
    if isinstance(values, str):  # a str is a Sequence[str] too; sending its letters is a bug
        raise TypeError("expected a sequence of ids, got one string")
    return list(dict.fromkeys(values))


def _filter_params(location_uids: Sequence[str] | None) -> QueryParams | None:
    """Query pairs for a location filter on a paged call; None when it matches nothing.

    Paged calls cannot be split (the upstream's token belongs to one filter), so a list
    longer than `contract.MAX_IDS_PER_CALL` is the caller's bug.
    """
    if location_uids is None:
        return []
    uids = _ids(location_uids)
    if not uids:
        return None
    if len(uids) > contract.MAX_IDS_PER_CALL:
        raise ValueError(f"at most {contract.MAX_IDS_PER_CALL} location uids per paged call")
    return contract.array_param(contract.LOCATION_UIDS_PARAM, uids)


def _add_page_token(params: QueryParams, page_token: str | None) -> None:
    if page_token:
        params.append((contract.PAGINATION_TOKEN_PARAM, page_token))


def _add_window(params: QueryParams, start: datetime | None, end: datetime | None) -> None:
    if start is not None:
        params.append((contract.START_DATE_PARAM, contract.format_instant(start)))
    if end is not None:
        params.append((contract.END_DATE_PARAM, contract.format_instant(end)))


async def _chunked(
    fetch: Callable[[QueryParams], Awaitable[tuple[T, ...]]],
    name: str,
    values: Sequence[str] | None,
) -> tuple[T, ...]:
    """Call `fetch` once per chunk of ids (once with no filter for None), concurrently."""
    if values is None:
        return await fetch([])
    ids = _ids(values)
    size = contract.MAX_IDS_PER_CALL
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    if not chunks:
        return ()
    if len(chunks) == 1:
        return await fetch(contract.array_param(name, chunks[0]))
    results = await asyncio.gather(
        *(fetch(contract.array_param(name, chunk)) for chunk in chunks), return_exceptions=True
    )
    rows: list[T] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        rows.extend(result)
    return tuple(rows)
