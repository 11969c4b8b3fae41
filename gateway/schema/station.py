"""The `Station` type: inventory fields and live fields, each fetched only when selected.

A station has two upstream sources. Its inventory (model, firmware, classification …)
comes from GET /locations/{uid}/stations, one call per location; its live state (access,
power module sum, EVSEs) from the network status view, batched across locations. A
`Station` holds whichever row it was built from and loads the other on first use.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.enums import (
    Access,
    ApplicationType,
    Facility,
    ParkingType,
    StationOperationalStatus,
)
from gateway.schema.federation import entity_key
from gateway.schema.location import Label
from gateway.upstream.models import (
    LocationChargingStation,
    NetworkStationStatus,
)
from gateway.upstream.models import (
    ManufacturingInfo as ManufacturingInfoRow,
)

if TYPE_CHECKING:
    from gateway.schema.evse import Evse
    from gateway.schema.hardware_error import HardwareErrorConnection, HardwareErrorFilter
    from gateway.schema.location import Location

Ctx = Info[Context, None]


@strawberry.type(description="How a station's site is classified.")
class StationClassification:
    access: Access | None
    application_types: list[ApplicationType]
    facilities: list[Facility]
    parking_type: ParkingType | None


@strawberry.type(description="Factory and order data of the charger hardware.")
class ManufacturingInfo:
    delivery_date: date | None
    extra_orders: list[str]
    order_number: str | None
    partner_id: str | None
    partner_name: str | None
    product_id: str | None
    product_name: str | None
    serial_number: str | None
    serial_number_status: str | None
    stock: str | None

    @classmethod
    def from_row(cls, row: ManufacturingInfoRow) -> ManufacturingInfo:
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
    id: str | None
    name: str | None


@strawberry.federation.type(keys=["stationId"], description="One charger (one OCPP connection).")
class Station:
    station_id: strawberry.ID = strawberry.field(description="Unique across ChargEye.")
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
        row = await info.context.loaders.station_live.load(entity_key(key, "stationId"))
        return cls.from_live(row)

    async def _inventory(self, info: Ctx) -> LocationChargingStation:
        if self.inventory_row is None:
            self.inventory_row = await info.context.loaders.station_inventory.load(
                str(self.station_id)
            )
        return self.inventory_row

    async def _live(self, info: Ctx) -> NetworkStationStatus:
        if self.live_row is None:
            self.live_row = await info.context.loaders.station_live.load(str(self.station_id))
        return self.live_row

    # --- fields present in both sources --------------------------------------------------
    @strawberry.field
    async def name(self, info: Ctx) -> str | None:
        if self.live_row is not None:
            return self.live_row.name
        return (
            (await self._inventory(info)).name
            if self.inventory_row is None
            else self.inventory_row.name
        )

    # --- live fields (network status) ---------------------------------------------------
    @strawberry.field(description="PUBLIC or PRIVATE, from the live network status.")
    async def access(self, info: Ctx) -> Access | None:
        return (await self._live(info)).access

    @strawberry.field(description="Sum of the power of the station's power modules, kW.")
    async def power_module_power_sum_kw(self, info: Ctx) -> float | None:
        return (await self._live(info)).power_module_power_sum_kw

    @strawberry.field(description="The station's EVSEs (connectors) with their live state.")
    async def evses(
        self, info: Ctx
    ) -> list[Annotated[Evse, strawberry.lazy("gateway.schema.evse")]] | None:
        from gateway.schema.evse import Evse

        live = await self._live(info)
        return [Evse.from_row(evse, station_id=live.station_id) for evse in live.evses]

    # --- inventory fields (GET /locations/{uid}/stations) ------------------------------------
    @strawberry.field
    async def model(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).model

    @strawberry.field
    async def vendor_name(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).vendor_name

    @strawberry.field
    async def firmware_version(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).firmware_version

    @strawberry.field(description="Highest total output across all connectors at once, kW.")
    async def max_power_kw(self, info: Ctx) -> float | None:
        return (await self._inventory(info)).max_power_kw

    @strawberry.field
    async def operational_status(self, info: Ctx) -> StationOperationalStatus | None:
        return (await self._inventory(info)).operational_status

    @strawberry.field
    async def classification(self, info: Ctx) -> StationClassification | None:
        row = (await self._inventory(info)).classification
        if row is None:
            return None
        return StationClassification(
            access=row.access,
            application_types=list(row.application_types or ()),
            facilities=list(row.facilities or ()),
            parking_type=row.parking_type,
        )

    @strawberry.field
    async def manufacturing_info(self, info: Ctx) -> ManufacturingInfo | None:
        row = (await self._inventory(info)).manufacturing_info
        return ManufacturingInfo.from_row(row) if row else None

    @strawberry.field
    async def customer(self, info: Ctx) -> Customer | None:
        row = (await self._inventory(info)).customer
        return Customer(id=row.id, name=row.name) if row else None

    @strawberry.field(description="The customer's own id for the station.")
    async def customer_supplied_id(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).customer_supplied_id

    @strawberry.field
    async def commissioning_required(self, info: Ctx) -> bool | None:
        return (await self._inventory(info)).commissioning_required

    @strawberry.field
    async def group_path(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).group_path

    @strawberry.field
    async def license_id(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).license_id

    @strawberry.field
    async def license_tenant_id(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).license_tenant_id

    @strawberry.field
    async def notes(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).notes

    @strawberry.field
    async def operator(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).operator

    @strawberry.field(description="Comma-separated capability names.")
    async def station_capabilities(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).station_capabilities

    @strawberry.field
    async def labels(self, info: Ctx) -> list[Label] | None:
        return [Label.from_row(label) for label in (await self._inventory(info)).labels or ()]

    @strawberry.field(name="tenantIdCPO")
    async def tenant_id_cpo(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).tenant_id_cpo

    @strawberry.field(name="tenantIdEMSP")
    async def tenant_id_emsp(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).tenant_id_emsp

    @strawberry.field
    async def tenant_id_maintenance(self, info: Ctx) -> str | None:
        return (await self._inventory(info)).tenant_id_maintenance

    @strawberry.field
    async def tenant_ids(self, info: Ctx) -> list[str] | None:
        return list((await self._inventory(info)).tenant_ids or ())

    # --- relations ----------------------------------------------------------------------
    @strawberry.field
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        uid = self.location_uid or await info.context.loaders.location_of_station(
            str(self.station_id)
        )
        return await Location.load(info, uid)

    @strawberry.field(description="Hardware errors this station raised, newest first.")
    async def hardware_errors(
        self,
        info: Ctx,
        first: int = 50,
        after: str | None = None,
        filter: Annotated[HardwareErrorFilter, strawberry.lazy("gateway.schema.hardware_error")]
        | None = None,
    ) -> (
        Annotated[HardwareErrorConnection, strawberry.lazy("gateway.schema.hardware_error")] | None
    ):
        from gateway.schema.hardware_error import hardware_error_connection

        uid = self.location_uid or await info.context.loaders.location_of_station(
            str(self.station_id)
        )
        return await hardware_error_connection(
            info, first, after, filter, location_uids=[uid], station_id=str(self.station_id)
        )
