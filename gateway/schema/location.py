"""The `Location` type: a ChargEye site, every field of its row, tenancy included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.schema.connection import After, Connection, First
from gateway.schema.costs import (
    FREE,
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
from gateway.schema.enums import EvseStatus
from gateway.schema.federation import entity_key
from gateway.schema.selection import selected_names, selected_under
from gateway.upstream.models import Label as LabelRow
from gateway.upstream.models import LocationRow
from gateway.upstream.models import PositionEstimate as PositionEstimateRow

if TYPE_CHECKING:
    from gateway.schema.evse import Evse
    from gateway.schema.filters import SessionFilter, TransactionFilter
    from gateway.schema.hardware_error import HardwareErrorConnection, HardwareErrorFilter
    from gateway.schema.power import LocationPower
    from gateway.schema.session import ProblematicSessionConnection
    from gateway.schema.station import Station
    from gateway.schema.transaction import TransactionConnection

Ctx = Info[Context, None]


def prefetch_relations(info: Ctx, uid: str | None, *path: str) -> None:
    """Start now the calls that the relations selected at `path` will make for location
    `uid` (None: every location, through the whole-network views).

    They then overlap the call that finds or lists the location instead of waiting behind
    it. Each is the very call the relation's resolver makes, cached for the request, so
    nothing is fetched twice and the cost estimate already counts it.
    """
    from gateway.schema.station import STATION_SOURCES

    names = selected_under(info, *path)
    loaders = info.context.loaders
    stations_from_status = "stations" in names and not STATION_SOURCES.only_inventory(
        selected_under(info, *path, "stations")
    )
    if "evses" in names or stations_from_status:
        if uid is None:
            loaders.network_status.prefetch_whole_network()
        else:
            loaders.network_status.prefetch(uid)
    elif "stations" in names and uid is not None:
        loaders.stations.prefetch_inventory_at(uid)
    if "currentPower" in names:
        loaders.power.prefetch(uid)


# --- what the relations of a location cost upstream (see gateway/schema/costs.py) ---------
def _only_inventory(ask: Ask) -> bool:
    from gateway.schema.station import STATION_SOURCES

    return STATION_SOURCES.only_inventory(ask.selected)


def _stations(level: Level, ask: Ask) -> Charge:
    if _only_inventory(ask):  # one inventory call per location
        return Charge(level.parents, shared="inventory")
    return Charge(status_pages(ask.limits, level.parents), shared="status")


def _stations_below(level: Level, ask: Ask) -> Level:
    n = level.parents * ask.shape.stations_bound
    return Level(
        parents=n, locations=level.parents, stations=n, from_inventory=_only_inventory(ask)
    )


def _status(level: Level, ask: Ask) -> Charge:
    return Charge(status_pages(ask.limits, level.parents), shared="status")


def _evses_below(level: Level, ask: Ask) -> Level:
    return Level(
        parents=level.parents * ask.shape.evses_per_location_bound,
        locations=level.parents,
        stations=level.parents * ask.shape.stations_bound,
    )


def _power(level: Level, ask: Ask) -> Charge:
    return Charge(batches(level.parents), shared="power")


def _per_location_list(level: Level, ask: Ask) -> Charge:
    return Charge(level.parents * list_pages(ask))


def _per_location_errors(level: Level, ask: Ask) -> Charge:
    from gateway.schema.hardware_error import HardwareErrorFilter

    filtering = HardwareErrorFilter.filters_rows(ask.arg("filter"))
    return Charge(level.parents * (filtered_pages(ask) if filtering else list_pages(ask)))


def _site_rows(level: Level, ask: Ask) -> Level:
    first = first_of(ask)
    stations = level.parents * min(first, ask.shape.stations_bound)
    return Level(
        parents=level.parents,
        page=first,
        locations=level.parents,
        stations=stations,
        station_known=False,
    )


@strawberry.type(description="A free-text tag; the upstream shows each tenant only its own.")
class Label:
    value: str = strawberry.field(description="The tag's text.")

    @classmethod
    def from_row(cls, row: LabelRow) -> Label:
        return cls(value=row.value)


@strawberry.type(description="A WGS84 point.")
class Coordinates:
    lat: float = strawberry.field(description="Latitude, degrees (-90 to 90).")
    lng: float = strawberry.field(description="Longitude, degrees (-180 to 180).")


@strawberry.type(description="Bounding box of a site.")
class Bounds:
    north_west: Coordinates = strawberry.field(description="The box's north-west corner.")
    south_east: Coordinates = strawberry.field(description="The box's south-east corner.")


@strawberry.type(description="Position estimated by ChargEye, e.g. from station GPS.")
class PositionEstimate:
    lat: float | None = strawberry.field(description="Estimated latitude, WGS84 degrees.")
    lng: float | None = strawberry.field(description="Estimated longitude, WGS84 degrees.")
    confidence: float | None = strawberry.field(
        description="How sure the estimate is; the upstream gives no scale (0 to 1 likely)."
    )
    last_updated: datetime | None = strawberry.field(
        description="When the estimate was last worked out (ISO 8601, UTC)."
    )

    @classmethod
    def from_row(cls, row: PositionEstimateRow) -> PositionEstimate:
        return cls(
            lat=row.lat,
            lng=row.lng,
            confidence=row.confidence,
            last_updated=row.last_updated,
        )


def _of_row(
    read: Callable[[LocationRow], object],
    returns: object,
    description: str | None = None,
    *,
    name: str | None = None,
) -> Any:
    """A field read from the location's row when it is selected."""

    def resolve(self: Location) -> object:
        return read(self.row)

    resolve.__annotations__ = {"return": returns}
    return strawberry.field(
        resolver=resolve, name=name, description=description, metadata=priced(FREE)
    )


@strawberry.federation.type(keys=["id"], description="A site (parking lot, depot) with stations.")
class Location:
    row: strawberry.Private[LocationRow]

    # Every field reads the row when asked: a page of sites costs nothing for the fields
    # nobody selected.
    id = _of_row(
        lambda row: strawberry.ID(row.id), strawberry.ID, "ChargEye's id, the `locationUid`."
    )
    location_id = _of_row(
        attrgetter("location_id"),
        str | None,
        "The operator's own reference for the site; not unique, not the id.",
    )
    name = _of_row(attrgetter("name"), str | None, "Display name of the site.")
    address = _of_row(attrgetter("address"), str | None, "Street address, one free-text line.")
    postal_code = _of_row(
        attrgetter("postal_code"), str | None, "Postal code, at most 10 characters."
    )
    city = _of_row(attrgetter("city"), str | None, "City or town.")
    state = _of_row(attrgetter("state"), str | None, "State, province or region, free text.")
    country = _of_row(attrgetter("country"), str | None, "Country name, free text.")
    country_code = _of_row(attrgetter("country_code"), str | None, "ISO 3166-1 alpha-2.")
    lat = _of_row(attrgetter("lat"), float | None, "Latitude of the site's centre, WGS84.")
    lng = _of_row(attrgetter("lng"), float | None, "Longitude of the site's centre, WGS84.")
    bounds = _of_row(
        lambda row: _bounds(row.bounds),
        Bounds | None,
        "The site's bounding box; null when the upstream has none (or not two corners).",
    )
    position_estimate = _of_row(
        lambda row: (
            PositionEstimate.from_row(row.position_estimate) if row.position_estimate else None
        ),
        PositionEstimate | None,
        "Where ChargEye estimates the site is (e.g. from station GPS); null if it has none.",
    )
    roaming_pool_id = _of_row(
        attrgetter("roaming_pool_id"),
        str | None,
        "The roaming pool the site is published in, if any.",
    )
    labels = _of_row(
        lambda row: [Label.from_row(label) for label in row.labels or ()],
        list[Label],
        "Tags on the site that the caller may see; empty when there are none.",
    )
    tenant_id_cpo = _of_row(
        attrgetter("tenant_id_cpo"),
        str | None,
        "Tenant acting as charge-point operator.",
        name="tenantIdCPO",
    )
    tenant_id_emsp = _of_row(
        attrgetter("tenant_id_emsp"),
        str | None,
        "Tenant acting as e-mobility service provider.",
        name="tenantIdEMSP",
    )
    tenant_id_maintenance = _of_row(
        attrgetter("tenant_id_maintenance"), str | None, "Tenant responsible for maintenance."
    )
    tenant_ids = _of_row(
        lambda row: list(row.tenant_ids or ()), list[str], "Every tenant allowed to read the row."
    )

    @classmethod
    def from_row(cls, row: LocationRow) -> Location:
        return cls(row=row)

    @classmethod
    async def load(cls, info: Ctx, uid: str) -> Location | None:
        """The location by uid, or None when it is unknown or hidden from the caller."""
        try:
            return cls.from_row(await info.context.loaders.locations.get(uid))
        except NotFound:
            return None

    @classmethod
    async def resolve_reference(cls, info: Ctx, **key: object) -> Location:
        """A router's `_entities` call: one the caller cannot see is `NOT_FOUND` there."""
        return cls.from_row(await info.context.loaders.locations.get(entity_key(key, "id")))

    @strawberry.field(
        description="Stations at the site.", metadata=priced(Cost(_stations, _stations_below))
    )
    async def stations(
        self, info: Ctx
    ) -> list[Annotated[Station, strawberry.lazy("gateway.schema.station")]] | None:
        from gateway.schema.station import STATION_SOURCES, Station

        loaders = info.context.loaders
        if STATION_SOURCES.only_inventory(selected_names(info)):
            # The inventory call is needed anyway, and it lists the stations by itself.
            inventory = await loaders.stations.inventory_at(self.row.id)
            return [Station.from_inventory(row) for row in inventory]
        # Otherwise the status view lists them, batched across locations.
        status = await loaders.network_status.of(self.row.id)
        return [Station.from_live(row) for row in status.stations]

    @strawberry.field(
        description="Every EVSE at the site, optionally only those in one status.",
        metadata=priced(Cost(_status, _evses_below)),
    )
    async def evses(
        self,
        info: Ctx,
        status: Annotated[
            EvseStatus | None,
            strawberry.argument(description="Only EVSEs in this live status; all if omitted."),
        ] = None,
    ) -> list[Annotated[Evse, strawberry.lazy("gateway.schema.evse")]] | None:
        from gateway.schema.evse import Evse

        tree = await info.context.loaders.network_status.of(self.row.id)
        return [
            Evse.from_row(evse, station_id=station.station_id)
            for station in tree.stations
            for evse in station.evses
            if status is None or evse.status == status
        ]

    @strawberry.field(
        description="Power in use at the site right now.", metadata=priced(Cost(_power))
    )
    async def current_power(
        self, info: Ctx
    ) -> Annotated[LocationPower, strawberry.lazy("gateway.schema.power")] | None:
        from gateway.schema.power import LocationPower

        row = await info.context.loaders.power.at(self.row.id)
        return LocationPower.from_row(row)

    @strawberry.field(
        description="Sessions at the site, newest first.",
        metadata=priced(Cost(_per_location_list, _site_rows)),
    )
    async def transactions(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            Annotated[TransactionFilter, strawberry.lazy("gateway.schema.filters")] | None,
            strawberry.argument(
                description="Narrow the sessions; its `locationIds` is ignored (this site's own)."
            ),
        ] = None,
    ) -> Annotated[TransactionConnection, strawberry.lazy("gateway.schema.transaction")] | None:
        from gateway.schema.filters import TransactionFilter
        from gateway.schema.transaction import NETWORK_TRANSACTIONS

        query = TransactionFilter.transactions(filter, within=(self.row.id,))
        return await NETWORK_TRANSACTIONS.page(info, query, first, after)

    @strawberry.field(
        description="Sessions at the site that the upstream flags as problematic.",
        metadata=priced(Cost(_per_location_list, _site_rows)),
    )
    async def problematic_sessions(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            Annotated[SessionFilter, strawberry.lazy("gateway.schema.filters")] | None,
            strawberry.argument(
                description="Narrow the sessions; its `locationIds` is ignored (this site's own)."
            ),
        ] = None,
    ) -> Annotated[ProblematicSessionConnection, strawberry.lazy("gateway.schema.session")] | None:
        from gateway.schema.filters import SessionFilter
        from gateway.schema.session import PROBLEMATIC_SESSIONS

        query = SessionFilter.query(filter, within=(self.row.id,))
        return await PROBLEMATIC_SESSIONS.page(info, query, first, after)

    @strawberry.field(
        description="Hardware errors raised by the site's stations.",
        metadata=priced(Cost(_per_location_errors, _site_rows)),
    )
    async def hardware_errors(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            Annotated[HardwareErrorFilter, strawberry.lazy("gateway.schema.hardware_error")] | None,
            strawberry.argument(
                description="Narrow the errors; its `locationIds` is ignored (this site's own)."
            ),
        ] = None,
    ) -> (
        Annotated[HardwareErrorConnection, strawberry.lazy("gateway.schema.hardware_error")] | None
    ):
        from gateway.schema.hardware_error import HARDWARE_ERRORS, HardwareErrorFilter

        query = (filter or HardwareErrorFilter()).query(within=(self.row.id,))
        return await HARDWARE_ERRORS.page(info, query, first, after)


def _bounds(corners: tuple[tuple[float, float], ...] | None) -> Bounds | None:
    """Upstream bounds are GeoJSON positions, longitude first: [north-west, south-east]."""
    if not corners or len(corners) != 2:
        return None
    (west, north), (east, south) = corners
    return Bounds(
        north_west=Coordinates(lat=north, lng=west),
        south_east=Coordinates(lat=south, lng=east),
    )


@strawberry.type(description="A page of locations.")
class LocationConnection(Connection[Location]):
    pass
