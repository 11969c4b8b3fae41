"""The `Station` type: inventory fields and live fields, each fetched only when selected.

A station has two upstream sources. Its inventory (model, firmware, classification …)
comes from GET /locations/{uid}/stations, one call per location; its live state (access,
power module sum, EVSEs) from the network status view, batched across locations. A
`Station` holds whichever row it was built from and loads the other on first use.

Every field is declared once, with its source (`inventory(...)`, `live(...)`): the
routing of `Location.stations` reads the sources from the fields themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.schema.connection import After, First
from gateway.schema.costs import (
    FREE,
    LOCATION_BY_ID,
    NOTHING,
    Ask,
    Charge,
    Cost,
    Level,
    filtered_pages,
    first_of,
    priced,
    status_pages,
)
from gateway.schema.enums import (
    Access,
    ApplicationType,
    Facility,
    ParkingType,
    StationOperationalStatus,
)
from gateway.schema.federation import entity_key
from gateway.schema.location import Label
from gateway.schema.sources import FieldSources, Source, tagged
from gateway.upstream.models import Customer as CustomerRow
from gateway.upstream.models import (
    LocationChargingStation,
    NetworkStationStatus,
)
from gateway.upstream.models import (
    ManufacturingInfo as ManufacturingInfoRow,
)
from gateway.upstream.models import StationClassification as ClassificationRow

if TYPE_CHECKING:
    from gateway.schema.evse import Evse
    from gateway.schema.hardware_error import HardwareErrorConnection, HardwareErrorFilter
    from gateway.schema.location import Location

Ctx = Info[Context, None]


@strawberry.type(description="How a station's site is classified.")
class StationClassification:
    access: Access | None = strawberry.field(
        description="Who may charge here, as classified in the inventory; null if unset."
    )
    application_types: list[ApplicationType] = strawberry.field(
        description="What the site is used for; empty when unset."
    )
    facilities: list[Facility] = strawberry.field(
        description="Facilities the site belongs to; empty when unset."
    )
    parking_type: ParkingType | None = strawberry.field(
        description="Kind of parking place; null if unset."
    )

    @classmethod
    def from_row(cls, row: ClassificationRow | None) -> StationClassification | None:
        if row is None:
            return None
        return cls(
            access=row.access,
            application_types=list(row.application_types or ()),
            facilities=list(row.facilities or ()),
            parking_type=row.parking_type,
        )


@strawberry.type(description="Factory and order data of the charger hardware.")
class ManufacturingInfo:
    delivery_date: date | None = strawberry.field(
        description="Day the unit was shipped from Kempower to the customer."
    )
    extra_orders: list[str] = strawberry.field(
        description="Further order numbers for the unit (e.g. sub-orders); often empty."
    )
    order_number: str | None = strawberry.field(description="Kempower's order number.")
    partner_id: str | None = strawberry.field(
        description="Id of the customer that first bought the unit."
    )
    partner_name: str | None = strawberry.field(
        description="Name of the customer that first bought the unit."
    )
    product_id: str | None = strawberry.field(
        description="Kempower product code, e.g. C502P240ND4."
    )
    product_name: str | None = strawberry.field(description="Readable product name.")
    serial_number: str | None = strawberry.field(description="Factory serial number.")
    serial_number_status: str | None = strawberry.field(
        description="State of the serial number in Kempower's inventory, e.g. Inventory."
    )
    stock: str | None = strawberry.field(description="Stock category, e.g. DEMO.")

    @classmethod
    def from_row(cls, row: ManufacturingInfoRow | None) -> ManufacturingInfo | None:
        if row is None:
            return None
        return cls(
            delivery_date=row.delivery_date,
            extra_orders=list(row.extra_orders or ()),
            order_number=row.order_number,
            partner_id=row.partner_id,
            partner_name=row.partner_name,
            product_id=row.product_id,
            product_name=row.product_name,
            serial_number=row.serial_number,
            serial_number_status=row.serial_number_status,
            stock=row.stock,
        )


@strawberry.type(description="The customer who owns a station.")
class Customer:
    id: str | None = strawberry.field(description="The customer's id in ChargEye.")
    name: str | None = strawberry.field(description="The customer's name.")

    @classmethod
    def from_row(cls, row: CustomerRow | None) -> Customer | None:
        return cls(id=row.id, name=row.name) if row else None


def _labels(row: LocationChargingStation) -> list[Label]:
    return [Label.from_row(label) for label in row.labels or ()]


def _tenant_ids(row: LocationChargingStation) -> list[str]:
    return list(row.tenant_ids or ())


def _converted(
    attribute: str, convert: Callable[[Any], object]
) -> Callable[[LocationChargingStation], object]:
    get = attrgetter(attribute)
    return lambda row: convert(get(row))


def inventory(
    read: str | Callable[[LocationChargingStation], object],
    returns: object,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    """A field read from the station's inventory row (an attribute name or a function)."""
    return _sourced(Source.INVENTORY, read, returns, name=name, description=description)


def _inventory_calls(level: Level, ask: Ask) -> Charge:
    # One inventory call per location, shared by every inventory field of the stations.
    return NOTHING if level.from_inventory else Charge(level.locations, shared="inventory")


def _live_calls(level: Level, ask: Ask) -> Charge:
    # Stations listed from the inventory read their locations' status trees once.
    if not level.from_inventory:
        return NOTHING
    return Charge(status_pages(ask.limits, level.locations), shared="status")


SOURCE_COSTS = {
    Source.INVENTORY: Cost(_inventory_calls),
    Source.LIVE: Cost(_live_calls),
    Source.EITHER: FREE,
}


def _evses_below(level: Level, ask: Ask) -> Level:
    return Level(
        parents=level.parents * ask.shape.evses_per_station_bound,
        locations=level.locations,
        stations=level.parents,
    )


def _error_pages(level: Level, ask: Ask) -> Charge:
    # The errors of the station's location, filtered to the station: stations of one
    # location share the pages.
    return Charge(level.locations * filtered_pages(ask))


def _error_rows(level: Level, ask: Ask) -> Level:
    return Level(
        parents=level.parents,
        page=first_of(ask),
        locations=level.locations,
        stations=level.parents,
    )


def sourced(source: Source, *, below: Callable[[Level, Ask], Level] | None = None) -> Any:
    """Metadata of a field served by `source`: the source, and the cost it implies."""
    cost = SOURCE_COSTS[source]
    return tagged(source) | priced(Cost(cost.charge, below))


def either(read: str, returns: object, *, description: str | None = None) -> Any:
    """A field in both rows: read from whichever is at hand (the inventory if neither)."""
    return _sourced(Source.EITHER, read, returns, description=description)


def live(
    read: str | Callable[[NetworkStationStatus], object],
    returns: object,
    *,
    description: str | None = None,
) -> Any:
    """A field read from the station's live row in the network status view."""
    return _sourced(Source.LIVE, read, returns, description=description)


def _sourced(
    source: Source,
    read: str | Callable[[Any], object],
    returns: object,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Any:
    get = attrgetter(read) if isinstance(read, str) else read

    def resolve(self: Station, info: Ctx) -> object:
        # The value at hand is returned as is; only a missing row makes the field async.
        row = self.row_for(source)
        if row is not None:
            return get(row)
        return self.load_row(info, source, get)

    resolve.__annotations__ = {"info": Ctx, "return": returns}
    return strawberry.field(
        resolver=resolve, name=name, description=description, metadata=sourced(source)
    )


@strawberry.federation.type(keys=["stationId"], description="One charger (one OCPP connection).")
class Station:
    station_id: strawberry.ID = strawberry.field(
        description="Unique across ChargEye.", metadata=tagged(Source.EITHER)
    )
    location_uid: strawberry.Private[str | None]
    inventory_row: strawberry.Private[LocationChargingStation | None] = None
    live_row: strawberry.Private[NetworkStationStatus | None] = None

    @classmethod
    def from_live(cls, row: NetworkStationStatus) -> Station:
        return cls(
            station_id=strawberry.ID(row.station_id), location_uid=row.location_uid, live_row=row
        )

    @classmethod
    def from_inventory(cls, row: LocationChargingStation) -> Station:
        return cls(
            station_id=strawberry.ID(row.station_id),
            location_uid=row.location_uid,
            inventory_row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Ctx, **key: object) -> Station:
        """A router's `_entities` call: keys arrive as written in `@key` (camelCase)."""
        row = await info.context.loaders.stations.live(entity_key(key, "stationId"))
        return cls.from_live(row)

    def row_for(self, source: Source) -> LocationChargingStation | NetworkStationStatus | None:
        if source is Source.INVENTORY:
            return self.inventory_row
        if source is Source.LIVE:
            return self.live_row
        return self.live_row or self.inventory_row

    async def load_row(self, info: Ctx, source: Source, read: Callable[[Any], object]) -> object:
        """Load the row of `source` that this station was not built from, then read it."""
        stations = info.context.loaders.stations
        sid = str(self.station_id)
        if source is not Source.LIVE:
            self.inventory_row = await stations.inventory(sid)
            return read(self.inventory_row)
        self.live_row = await stations.live(sid)
        return read(self.live_row)

    # --- in both rows -----------------------------------------------------------------------
    name = either("name", str | None, description="Display name of the station.")

    # --- live (network status) ----------------------------------------------------------------
    access = live(
        "access", Access | None, description="PUBLIC or PRIVATE, from the live network status."
    )
    power_module_power_sum_kw = live(
        "power_module_power_sum_kw",
        float | None,
        description="Sum of the power of the station's power modules, kW.",
    )

    @strawberry.field(
        description="The station's EVSEs (connectors) with their live state.",
        metadata=sourced(Source.LIVE, below=_evses_below),
    )
    async def evses(
        self, info: Ctx
    ) -> list[Annotated[Evse, strawberry.lazy("gateway.schema.evse")]] | None:
        from gateway.schema.evse import Evse

        live_row = self.live_row or await info.context.loaders.stations.live(str(self.station_id))
        self.live_row = live_row
        return [Evse.from_row(evse, station_id=live_row.station_id) for evse in live_row.evses]

    # --- inventory (GET /locations/{uid}/stations) --------------------------------------------
    model = inventory("model", str | None, description="Charger model name.")
    vendor_name = inventory("vendor_name", str | None, description="Maker of the charger.")
    firmware_version = inventory(
        "firmware_version", str | None, description="Firmware the charger runs."
    )
    max_power_kw = inventory(
        "max_power_kw",
        float | None,
        description="Highest total output across all connectors at once, kW.",
    )
    operational_status = inventory(
        "operational_status",
        StationOperationalStatus | None,
        description="Service state set by the operator (not the live OCPP state).",
    )
    classification = inventory(
        _converted("classification", StationClassification.from_row),
        StationClassification | None,
        description="Access, use and parking classification of the site; null if unset.",
    )
    manufacturing_info = inventory(
        _converted("manufacturing_info", ManufacturingInfo.from_row),
        ManufacturingInfo | None,
        description="Factory and order data of the hardware; null if the upstream has none.",
    )
    customer = inventory(
        _converted("customer", Customer.from_row),
        Customer | None,
        description="The customer that owns the station; null if unknown.",
    )
    customer_supplied_id = inventory(
        "customer_supplied_id", str | None, description="The customer's own id for the station."
    )
    commissioning_required = inventory(
        "commissioning_required",
        bool | None,
        description="True while the station still has to be commissioned.",
    )
    group_path = inventory(
        "group_path",
        str | None,
        description="Place in the customer's grouping tree (format set by the upstream).",
    )
    license_id = inventory(
        "license_id", str | None, description="The licence that governs rights on the charger."
    )
    license_tenant_id = inventory(
        "license_tenant_id", str | None, description="Tenant that provides the licence."
    )
    notes = inventory("notes", str | None, description="Free-text notes on the station.")
    operator = inventory("operator", str | None, description="Who operates the station.")
    station_capabilities = inventory(
        "station_capabilities", str | None, description="Comma-separated capability names."
    )
    labels = inventory(
        _labels, list[Label] | None, description="Tags on the station that the caller may see."
    )
    tenant_id_cpo = inventory(
        "tenant_id_cpo",
        str | None,
        name="tenantIdCPO",
        description="Tenant acting as charge-point operator.",
    )
    tenant_id_emsp = inventory(
        "tenant_id_emsp",
        str | None,
        name="tenantIdEMSP",
        description="Tenant acting as e-mobility service provider.",
    )
    tenant_id_maintenance = inventory(
        "tenant_id_maintenance", str | None, description="Tenant responsible for maintenance."
    )
    tenant_ids = inventory(
        _tenant_ids, list[str] | None, description="Every tenant allowed to read the station."
    )

    # --- relations ----------------------------------------------------------------------------
    @strawberry.field(
        description="The site the station belongs to; null if unassigned or hidden.",
        metadata=tagged(Source.EITHER) | priced(LOCATION_BY_ID),
    )
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        try:
            uid = await self._location_uid(info)
        except NotFound:
            return None
        return await Location.load(info, uid)

    @strawberry.field(
        description="Hardware errors this station raised, newest first.",
        metadata=tagged(Source.EITHER) | priced(Cost(_error_pages, _error_rows)),
    )
    async def hardware_errors(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            Annotated[HardwareErrorFilter, strawberry.lazy("gateway.schema.hardware_error")] | None,
            strawberry.argument(
                description="Narrow the errors; `locationIds` is ignored (the station's own)."
            ),
        ] = None,
    ) -> (
        Annotated[HardwareErrorConnection, strawberry.lazy("gateway.schema.hardware_error")] | None
    ):
        from gateway.schema.hardware_error import HARDWARE_ERRORS, HardwareErrorFilter

        uid = await self._location_uid(info)
        query = (filter or HardwareErrorFilter()).query(
            within=(uid,), station_id=str(self.station_id)
        )
        return await HARDWARE_ERRORS.page(info, query, first, after)

    async def _location_uid(self, info: Ctx) -> str:
        if self.location_uid:
            return self.location_uid
        return await info.context.loaders.stations.location_of(str(self.station_id))


STATION_SOURCES = FieldSources(Station)
