"""The station inventory of a location (`GET /locations/{locationUid}/stations`)."""

from __future__ import annotations

from gateway.upstream.models._base import CalendarDate, Record, Timestamped
from gateway.upstream.models.enums import (
    Access,
    ApplicationType,
    Facility,
    ParkingType,
    StationOperationalStatus,
)
from gateway.upstream.models.locations import Label, Tenancy


class StationClassification(Record, frozen=True, kw_only=True):
    """Who may use a station, for what, and where it stands."""

    access: Access | None = None
    application_types: tuple[ApplicationType, ...] | None = None
    facilities: tuple[Facility, ...] | None = None
    parking_type: ParkingType | None = None


class ManufacturingInfo(Timestamped, frozen=True, kw_only=True):
    """Factory and order data of the charger hardware."""

    delivery_date: CalendarDate | None = None
    extra_orders: tuple[str, ...] | None = None
    order_number: str | None = None
    partner_id: str | None = None
    partner_name: str | None = None
    product_id: str | None = None
    product_name: str | None = None
    serial_number: str | None = None
    serial_number_status: str | None = None
    stock: str | None = None


class Customer(Record, frozen=True, kw_only=True):
    """The customer a station is registered to."""

    id: str | None = None
    name: str | None = None


class StationLocationRef(Record, frozen=True, kw_only=True):
    """Short copy of the station's location row; `id` is the locationUid."""

    id: str | None = None
    address: str | None = None
    lat: float | None = None
    lng: float | None = None
    location_id: str | None = None
    name: str | None = None
    roaming_pool_id: str | None = None


class LocationChargingStation(Tenancy, frozen=True, kw_only=True):
    """Inventory record of one station (`CensoredRowWithTenancy<ChargingStationRow>`)."""

    station_id: str
    name: str | None = None
    classification: StationClassification | None = None
    commissioning_required: bool | None = None
    customer: Customer | None = None
    customer_supplied_id: str | None = None
    firmware_version: str | None = None
    group_path: str | None = None
    labels: tuple[Label, ...] | None = None
    license_id: str | None = None
    license_tenant_id: str | None = None
    location: StationLocationRef | None = None
    location_uid: str | None = None
    manufacturing_info: ManufacturingInfo | None = None
    max_power_kw: float | None = None
    model: str | None = None
    notes: str | None = None
    operational_status: StationOperationalStatus | None = None
    operator: str | None = None
    station_capabilities: str | None = None
    """Comma-separated capability names, as the upstream sends them."""
    vendor_name: str | None = None


class LocationStationList(Record, frozen=True, kw_only=True):
    """Answer of the list-stations-of-a-location call."""

    stations: tuple[LocationChargingStation, ...]
