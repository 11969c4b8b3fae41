"""The query root: thin resolvers, each one call into the loaders or a list helper."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.loaders.queries import location_uids
from gateway.paging import slice_list
from gateway.schema.connection import After, First, connection
from gateway.schema.costs import (
    Ask,
    Charge,
    Cost,
    Level,
    batches,
    filtered_pages,
    first_of,
    list_pages,
    priced,
    status_pages,
)
from gateway.schema.evse import Evse
from gateway.schema.filters import SessionFilter, TransactionFilter
from gateway.schema.hardware_error import (
    HARDWARE_ERRORS,
    HardwareErrorConnection,
    HardwareErrorFilter,
)
from gateway.schema.location import Location, LocationConnection, prefetch_relations
from gateway.schema.location_filter import LocationFilter
from gateway.schema.power import NetworkPower, NetworkSummary, network_power, network_summary
from gateway.schema.session import PROBLEMATIC_SESSIONS, ProblematicSessionConnection
from gateway.schema.station import Station
from gateway.schema.transaction import NETWORK_TRANSACTIONS, TransactionConnection
from gateway.upstream.models import LocationRow

Ctx = Info[Context, None]


# --- what each root field costs upstream (see gateway/schema/costs.py) ----------------------
def _all_locations(level: Level, ask: Ask) -> Charge:
    return Charge(1, shared="locations", once=True)  # GET /locations, once a request


def _location_page(level: Level, ask: Ask) -> Level:
    n = min(first_of(ask), ask.shape.location_bound)
    return Level(page=n, locations=n, stations=n * ask.shape.stations_bound)


def _locate_one(level: Level, ask: Ask) -> Charge:
    return Charge(batches(1) + status_pages(ask.limits, 1))  # GET /stations, then status


def _network_rows(level: Level, ask: Ask) -> Level:
    first = first_of(ask)
    n = min(first, ask.shape.location_bound)
    return Level(page=first, locations=n, stations=first, station_known=False)


def _list(level: Level, ask: Ask) -> Charge:
    return Charge(list_pages(ask))


def _error_list(level: Level, ask: Ask) -> Charge:
    filtering = HardwareErrorFilter.filters_rows(ask.arg("filter"))
    return Charge(filtered_pages(ask) if filtering else list_pages(ask))


def _error_rows(level: Level, ask: Ask) -> Level:
    first = first_of(ask)
    return Level(page=first, locations=min(first, ask.shape.location_bound), stations=first)


def _chosen(ask: Ask) -> int:
    ids = ask.arg("locationIds")
    return len(ids) if isinstance(ids, list) else ask.shape.location_bound


def _one_call(level: Level, ask: Ask) -> Charge:
    return Charge(1)


def _chosen_locations(level: Level, ask: Ask) -> Level:
    n = _chosen(ask)
    return Level(locations=n, stations=n * ask.shape.stations_bound)


def _summary(level: Level, ask: Ask) -> Charge:
    if isinstance(ask.arg("locationIds"), list):
        return Charge(status_pages(ask.limits, _chosen(ask)))
    pages = min(status_pages(ask.limits, _chosen(ask)), ask.limits.max_walk_pages)
    return Charge(pages, shared="whole network status", once=True)


def _just_one(level: Level, ask: Ask) -> Level:
    return Level()


LocationIds = Annotated[
    list[strawberry.ID] | None,
    strawberry.argument(
        description="Only these locations (at most 100); every visible location if omitted."
    ),
]


@strawberry.type(
    description=(
        "Reads of the caller's charging network. Every root field is nullable, so one that "
        "fails leaves the others' answers intact."
    )
)
class Query:
    """Every root field is nullable: one that fails must not take the others with it."""

    @strawberry.field(
        description="One location by its ChargEye id; null if unknown or hidden.",
        metadata=priced(Cost(_one_call, _just_one)),
    )
    async def location(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The location's `id` (locationUid).")
        ],
    ) -> Location | None:
        prefetch_relations(info, str(id))
        return await Location.load(info, str(id))

    @strawberry.field(
        description="The caller's locations: one GET /locations, filtered and paged here.",
        metadata=priced(Cost(_all_locations, _location_page)),
    )
    async def locations(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            LocationFilter | None,
            strawberry.argument(description="Narrow the list; applied by the gateway."),
        ] = None,
    ) -> LocationConnection | None:
        context = info.context
        size = context.page_size(first)
        filter = LocationFilter.checked(filter)
        codec = context.cursors("locations", LocationFilter.key(filter))
        start = codec.decode(after)
        known = context.loaders.shape.locations
        if filter is None and after is None and known is not None and known <= size:
            # This page will hold every location: the whole-network views serve its
            # relations in as many pages as the page's own ids would, without waiting.
            prefetch_relations(info, None, "nodes")
            prefetch_relations(info, None, "edges", "node")
        rows = await context.loaders.locations.all()
        matching = [row for row in rows if filter is None or filter.matches(row)]
        page = slice_list(matching, start, size, key=_location_key)
        return connection(LocationConnection, page, codec, Location.from_row)

    @strawberry.field(
        description="One station by its stationId; null if unknown or hidden.",
        metadata=priced(Cost(_locate_one, _just_one)),
    )
    async def station(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="The station's `stationId`.")],
    ) -> Station | None:
        try:
            return Station.from_live(await info.context.loaders.stations.live(str(id)))
        except NotFound:
            return None

    @strawberry.field(
        description="One EVSE by its station and its id within that station.",
        metadata=priced(Cost(_locate_one, _just_one)),
    )
    async def evse(
        self,
        info: Ctx,
        station_id: Annotated[
            strawberry.ID, strawberry.argument(description="The station the EVSE belongs to.")
        ],
        evse_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The EVSE's id within that station (connectorId)."),
        ],
    ) -> Evse | None:
        try:
            return await Evse.load(info, str(station_id), str(evse_id))
        except NotFound:
            return None

    @strawberry.field(
        description="Sessions across the network (its transactions view), newest first.",
        metadata=priced(Cost(_list, _network_rows)),
    )
    async def transactions(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            TransactionFilter | None,
            strawberry.argument(description="Narrow the sessions; every condition must hold."),
        ] = None,
    ) -> TransactionConnection | None:
        query = TransactionFilter.transactions(filter)
        return await NETWORK_TRANSACTIONS.page(info, query, first, after)

    @strawberry.field(
        description="Sessions the upstream flags as problematic.",
        metadata=priced(Cost(_list, _network_rows)),
    )
    async def problematic_sessions(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            SessionFilter | None,
            strawberry.argument(description="Narrow the sessions; every condition must hold."),
        ] = None,
    ) -> ProblematicSessionConnection | None:
        return await PROBLEMATIC_SESSIONS.page(info, SessionFilter.query(filter), first, after)

    @strawberry.field(
        description="Hardware errors raised by stations in the network.",
        metadata=priced(Cost(_error_list, _error_rows)),
    )
    async def hardware_errors(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            HardwareErrorFilter | None,
            strawberry.argument(description="Narrow the errors; every condition must hold."),
        ] = None,
    ) -> HardwareErrorConnection | None:
        query = (filter or HardwareErrorFilter()).query()
        return await HARDWARE_ERRORS.page(info, query, first, after)

    @strawberry.field(
        description="Power in use now: total and per location (all if omitted).",
        metadata=priced(Cost(_one_call, _chosen_locations)),
    )
    async def network_power(
        self, info: Ctx, location_ids: LocationIds = None
    ) -> NetworkPower | None:
        return await network_power(info, location_uids(location_ids))

    @strawberry.field(
        description="The dashboard header, counted from the network status view.",
        metadata=priced(Cost(_summary, _chosen_locations)),
    )
    async def network_summary(
        self, info: Ctx, location_ids: LocationIds = None
    ) -> NetworkSummary | None:
        return await network_summary(info, location_uids(location_ids))


def _location_key(row: LocationRow) -> str:
    return row.id
