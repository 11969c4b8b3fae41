"""Demo sites: locations with their stations and EVSEs.

The EVSEs come out as drafts: their live status is decided here, while the sessions that
run on them (and so `tx_id`, `tx_status` and `power_kw`) are added by seed_activity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .catalog import (
    CITIES,
    CPO_ONLY_LABELS,
    EMSP_ONLY_LABELS,
    MAINTENANCE_ONLY_LABELS,
    PRODUCTS,
    SITE_KINDS,
    TENANT_LABELS,
    City,
    Product,
    SiteKind,
)
from .draw import Weighted, new_uuid
from .records import (
    Classification,
    Evse,
    JsonValue,
    Label,
    Location,
    ManufacturingInfo,
    PositionEstimate,
    Station,
    Tenancy,
)

OUT_OF_ORDER_STATIONS = 4
NOT_IN_OPERATION_STATIONS = 3
OFFLINE_STATIONS = 2  # besides the not-yet-commissioned ones, which are offline too

# Live EVSE status of a station in normal operation.
_EVSE_STATUS = Weighted(
    (
        ("Available", 64.0),
        ("Charging", 24.0),
        ("Occupied", 5.0),
        ("Faulted", 3.0),
        ("Unavailable", 2.0),
        ("Reserved", 2.0),
    )
)


@dataclass(frozen=True, slots=True)
class Site:
    location: Location
    city: City
    kind: SiteKind


@dataclass(frozen=True, slots=True)
class Sites:
    sites: tuple[Site, ...]
    stations: tuple[Station, ...]
    evses: tuple[Evse, ...]


def build_sites(
    rng: random.Random, now: datetime, tenancies: list[Tenancy], cpo_names: dict[str, str]
) -> Sites:
    """Lay out one location per tenancy, in the cities of the catalogue."""
    places = [city for city, count in CITIES for _ in range(count)]
    if len(places) != len(tenancies):
        raise ValueError("one tenancy per demo location is needed")
    sites = [
        _site(rng, now, seq, city, tenancy)
        for seq, (city, tenancy) in enumerate(zip(places, tenancies, strict=True))
    ]
    counts = [_station_count(rng, site.kind) for site in sites]
    total = sum(counts)
    special = rng.sample(
        range(total), OUT_OF_ORDER_STATIONS + NOT_IN_OPERATION_STATIONS + OFFLINE_STATIONS
    )
    out_of_order = set(special[:OUT_OF_ORDER_STATIONS])
    not_in_operation = set(special[OUT_OF_ORDER_STATIONS:-OFFLINE_STATIONS])
    offline = set(special[-OFFLINE_STATIONS:]) | not_in_operation

    stations: list[Station] = []
    evses: list[Evse] = []
    for site, count in zip(sites, counts, strict=True):
        for number in range(1, count + 1):
            index = len(stations)
            status = (
                "OUT_OF_ORDER"
                if index in out_of_order
                else "NOT_IN_OPERATION"
                if index in not_in_operation
                else "IN_OPERATION"
            )
            product = PRODUCTS[rng.choice(site.kind.products)]
            station = _station(
                rng, now, site, number, index, product, status, index in offline, cpo_names
            )
            stations.append(station)
            evses.extend(_evses(rng, station, product))
    return Sites(tuple(sites), tuple(stations), tuple(evses))


def _station_count(rng: random.Random, kind: SiteKind) -> int:
    if kind.label in ("Highway Services", "Bus Depot", "Logistics Hub"):
        return rng.randint(4, 8)
    return rng.randint(3, 6)


def _site(rng: random.Random, now: datetime, seq: int, city: City, tenancy: Tenancy) -> Site:
    kind = rng.choice(SITE_KINDS)
    district = rng.choice(city.districts)
    lat = round(city.lat + rng.uniform(-0.05, 0.05), 6)
    lng = round(city.lng + rng.uniform(-0.09, 0.09), 6)
    bounds = None
    if rng.random() < 0.4:
        half = rng.uniform(0.0004, 0.0015)
        bounds = (
            (round(lng - half, 6), round(lat + half, 6)),
            (round(lng + half, 6), round(lat - half, 6)),
        )
    geo: tuple[JsonValue, ...] | None = None
    if kind.products[0].startswith(("sat", "depot")) and rng.random() < 0.5:
        geo = (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lng + 0.0002, lat - 0.0001]},
                "properties": {"name": "Satellite row A"},
            },
        )
    estimate = PositionEstimate(
        lat=round(lat + rng.uniform(-0.0004, 0.0004), 6),
        lng=round(lng + rng.uniform(-0.0004, 0.0004), 6),
        confidence=round(rng.uniform(0.55, 0.99), 2),
        last_updated=(now - timedelta(days=rng.randint(1, 40), minutes=rng.randint(0, 1439))),
    )
    public = kind.access == "PUBLIC"
    location = Location(
        uid=new_uuid(rng),
        seq=seq,
        tenancy=tenancy,
        name=f"{district} {kind.label}",
        address=f"{rng.choice(city.streets)} {rng.randint(1, 120)}",
        city=city.name,
        postal_code=rng.choice(city.postal_codes),
        country=city.country,
        country_code=city.country_code,
        lat=lat,
        lng=lng,
        location_id=f"SITE-{city.country_code}-{seq + 101:03d}" if rng.random() < 0.85 else None,
        roaming_pool_id=f"pool-{city.country_code.lower()}-public" if public else None,
        state="active",
        bounds=bounds,
        geo=geo,
        labels=_location_labels(rng, tenancy),
        position_estimate=estimate,
    )
    return Site(location, city, kind)


def _location_labels(rng: random.Random, tenancy: Tenancy) -> tuple[Label, ...] | None:
    labels = [Label(value) for value in rng.sample(TENANT_LABELS, rng.randint(0, 2))]
    if rng.random() < 0.5:
        labels.append(Label(rng.choice(CPO_ONLY_LABELS), (tenancy.cpo,)))
    if tenancy.emsp != tenancy.cpo and rng.random() < 0.6:
        labels.append(Label(rng.choice(EMSP_ONLY_LABELS), (tenancy.emsp,)))
    if tenancy.maintenance is not None and rng.random() < 0.7:
        labels.append(
            Label(rng.choice(MAINTENANCE_ONLY_LABELS), (tenancy.cpo, tenancy.maintenance))
        )
    return tuple(labels) or None


def _station(
    rng: random.Random,
    now: datetime,
    site: Site,
    number: int,
    index: int,
    product: Product,
    operational_status: str,
    offline: bool,
    cpo_names: dict[str, str],
) -> Station:
    location, city, kind = site.location, site.city, site.kind
    tenancy = location.tenancy
    delivered: date = (now - timedelta(days=rng.randint(120, 1400))).date()
    week = delivered.isocalendar().week
    serial = f"KP{delivered.year % 100:02d}{week:02d}{rng.randint(0, 99999):05d}"
    if product.vendor != "Kempower":
        serial = f"{product.vendor[:2].upper()}{rng.randint(10**8, 10**9 - 1)}"
    operator = cpo_names[tenancy.cpo]
    grouped = product.max_power_kw >= 360 and rng.random() < 0.5
    labels: list[Label] = []
    if rng.random() < 0.25:
        labels.append(Label(rng.choice(("Satellite row A", "Near entrance", "Fleet only"))))
    if tenancy.maintenance is not None and rng.random() < 0.3:
        labels.append(Label("Warranty case open", (tenancy.maintenance,)))
    status = {"OUT_OF_ORDER": "Faulted", "NOT_IN_OPERATION": "Unavailable"}.get(
        operational_status, "Operative"
    )
    kind_tag = "HPC" if product.max_power_kw >= 360 else "AC" if product.is_ac else "DC"
    return Station(
        station_id=f"{city.country_code}-{city.code}-{index + 1:04d}",
        name=f"{location.name} {kind_tag} {number}",
        location_uid=location.uid,
        tenancy=tenancy,
        vendor_name=product.vendor,
        model=product.model,
        firmware_version=rng.choice(product.firmware),
        manufacturing=ManufacturingInfo(
            product_id=product.product_code,
            product_name=product.product_name,
            serial_number=serial,
            serial_number_status="Delivered",
            order_number=f"SO-{rng.randint(100000, 999999)}",
            extra_orders=(f"SO-{rng.randint(100000, 999999)}",) if rng.random() < 0.2 else (),
            delivery_date=delivered,
            partner_id=f"P-{1000 + sum(map(ord, operator)) % 9000}",
            partner_name=operator,
            stock="STANDARD" if rng.random() < 0.95 else "DEMO",
        ),
        classification=Classification(
            access=kind.access,
            application_types=kind.application_types,
            facilities=kind.facilities,
            parking_type=kind.parking_type,
        ),
        operational_status=operational_status,
        customer_id=f"cust-{tenancy.cpo}",
        customer_name=operator,
        customer_supplied_id=f"{city.code}{location.seq + 1:02d}-{number:02d}",
        license_id=f"lic-{tenancy.cpo}-{'pro' if kind_tag != 'AC' else 'basic'}",
        license_tenant_id=tenancy.cpo,
        group_path=f"/{city.country_code}/{city.name}/{location.name}",
        operator=operator,
        notes=rng.choice((None, None, None, "Cable replaced in spring", "Gate code at reception")),
        commissioning_required=operational_status == "NOT_IN_OPERATION",
        max_power_kw=product.max_power_kw,
        power_module_power_sum_kw=product.max_power_kw,
        capabilities=product.capabilities,
        labels=tuple(labels),
        status=status,
        online_status="Offline" if offline else "Online",
        ac_dc_power_ratio=1.0 if product.is_ac else round(rng.uniform(0.93, 0.96), 3),
        power_group_path=(f"pg-{location.uid[:8]}", f"pg-{location.uid[:8]}-tr{number}")
        if grouped
        else None,
        is_ac=product.is_ac,
    )


def _evses(rng: random.Random, station: Station, product: Product) -> list[Evse]:
    outlets = list(product.outlets)
    outlets += [product.outlets[0]] * rng.randint(*product.extra_outlets)
    result = []
    for number, (evse_type, rated) in enumerate(outlets, start=1):
        if station.online_status == "Offline":
            status = "Unknown"
        elif station.operational_status == "OUT_OF_ORDER":
            status = "Faulted" if number == 1 else "Unavailable"
        elif station.operational_status == "NOT_IN_OPERATION":
            status = "Unavailable"
        else:
            status = _EVSE_STATUS.draw(rng)
        limited = station.power_group_path is not None
        name = (
            "Pantograph"
            if evse_type == "oppcharge"
            else f"Socket {number}"
            if product.is_ac
            else f"Nozzle {number}"
        )
        result.append(
            Evse(
                station_id=station.station_id,
                evse_id=str(number),
                name=name,
                type=evse_type,
                status=status,
                max_power_kw=rated,
                max_power_kw_actual=round(rated * 0.75) if limited else rated,
                power_kw=0.0,
                tx_id=None,
                tx_status=None,
            )
        )
    return result
