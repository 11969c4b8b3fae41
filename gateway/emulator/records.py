"""Typed records of the demo network, named in Python terms (the wire names live in wire.py).

Every record is frozen: the seed is shared between emulators built with the same seed
and anchor, and a location update swaps in a new record instead of editing one in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
LonLat: TypeAlias = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Tenant:
    """An organisation that holds tokens; rows list the tenants that may read them."""

    id: str
    name: str
    role_hint: str  # "cpo", "emsp" or "maintenance": only a hint, tenancy is per row


@dataclass(frozen=True, slots=True)
class Label:
    """A free-text tag; with `tenant_ids` only those tenants see it."""

    value: str
    tenant_ids: tuple[str, ...] | None = None

    def visible_to(self, tenant_id: str) -> bool:
        return self.tenant_ids is None or tenant_id in self.tenant_ids


@dataclass(frozen=True, slots=True)
class Tenancy:
    """Who owns a row and who may read it (`ids` is the full read list)."""

    cpo: str
    emsp: str
    maintenance: str | None
    ids: tuple[str, ...]

    def visible_to(self, tenant_id: str) -> bool:
        return tenant_id in self.ids


@dataclass(frozen=True, slots=True)
class PositionEstimate:
    lat: float | None = None
    lng: float | None = None
    confidence: float | None = None
    last_updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """A site. Every descriptive field may be None (cleared or never set)."""

    uid: str
    seq: int  # arrival order: pages of the network status walk it, so inserts never shift them
    tenancy: Tenancy
    name: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    lat: float | None = None
    lng: float | None = None
    location_id: str | None = None
    roaming_pool_id: str | None = None
    state: str | None = None
    bounds: tuple[LonLat, LonLat] | None = None
    geo: tuple[JsonValue, ...] | None = None
    labels: tuple[Label, ...] | None = None
    position_estimate: PositionEstimate | None = None

    @property
    def id(self) -> str:
        """The wire name of `uid` (a location row's `id` is the locationUid elsewhere)."""
        return self.uid


@dataclass(frozen=True, slots=True)
class Classification:
    access: str
    application_types: tuple[str, ...]
    facilities: tuple[str, ...]
    parking_type: str | None


@dataclass(frozen=True, slots=True)
class ManufacturingInfo:
    product_id: str
    product_name: str
    serial_number: str
    serial_number_status: str
    order_number: str
    extra_orders: tuple[str, ...]
    delivery_date: date
    partner_id: str
    partner_name: str
    stock: str


@dataclass(frozen=True, slots=True)
class Station:
    """One charging station: inventory (Locations API) plus live state (Stations API)."""

    station_id: str
    name: str
    location_uid: str
    tenancy: Tenancy
    vendor_name: str
    model: str
    firmware_version: str
    manufacturing: ManufacturingInfo
    classification: Classification
    operational_status: str  # IN_OPERATION, NOT_IN_OPERATION, OUT_OF_ORDER
    customer_id: str
    customer_name: str
    customer_supplied_id: str
    license_id: str
    license_tenant_id: str
    group_path: str
    operator: str
    notes: str | None
    commissioning_required: bool
    max_power_kw: float
    power_module_power_sum_kw: float
    capabilities: str
    labels: tuple[Label, ...]
    # live state
    status: str  # Operative, Faulted, Unavailable
    online_status: str  # Online, Offline
    ac_dc_power_ratio: float
    power_group_path: tuple[str, ...] | None
    is_ac: bool


@dataclass(frozen=True, slots=True)
class Evse:
    """One EVSE (connector); `evse_id` is unique only within its station."""

    station_id: str
    evse_id: str
    name: str
    type: str  # CCS, CHAdeMO, Type2, AC, oppcharge
    status: str
    max_power_kw: float  # rated
    max_power_kw_actual: float  # after dynamic (load-management) limits
    power_kw: float  # output now
    tx_id: str | None
    tx_status: str | None


@dataclass(frozen=True, slots=True)
class Vehicle:
    ev_id: str | None  # None: AC sessions carry no vehicle MAC
    make: str
    model: str
    first_seen: datetime
    seq_no: int

    @property
    def display_name(self) -> str:
        return f"{self.make} {self.model}"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One charging session; `end` is None while it runs."""

    tx_id: str
    station_id: str
    evse_id: str
    location_uid: str
    status: str
    classification: str | None  # a post-hoc verdict: None while running
    start: datetime
    end: datetime | None
    power_kw: float  # output now while running, average once ended
    energy_kwh: float
    soc: float | None  # DC only: AC sessions report no state of charge
    soc_start: float | None
    vehicle: Vehicle | None
    authorization_token: str | None
    power_limitation: str | None
    update_time: datetime


@dataclass(frozen=True, slots=True)
class ProblematicSession:
    transaction: Transaction
    alert: str
    schedule_id: str | None


@dataclass(frozen=True, slots=True)
class ErrorDefinition:
    """Catalogue entry of a hardware error code."""

    code: str
    title: str
    severity: str  # critical, major, minor, warning
    alert_type: str
    description: str
    possible_cause: str
    potential_impact: str
    potential_solution: str
    self_help_steps: str
    documentation: str
    internal_notes: str
    alias: tuple[str, ...]
    state: str
    vendor: str
    created: datetime
    modified: datetime


@dataclass(frozen=True, slots=True)
class HardwareError:
    """One occurrence of an error on a station; `end` is None while it is active."""

    alert_id: str
    station_id: str
    definition: ErrorDefinition
    message: str
    start: datetime
    end: datetime | None
