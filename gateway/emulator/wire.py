"""Records to JSON rows with the contract's field names, as one tenant sees them.

Absent values (None) are left out instead of sent as null: the contract reads null as
absent, and several of its fields do not allow null. Labels a tenant may not see are
dropped from the row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from .records import (
    Evse,
    HardwareError,
    JsonValue,
    Label,
    Location,
    ProblematicSession,
    Station,
    Tenancy,
    Transaction,
    Vehicle,
)

Row = dict[str, JsonValue]

# Nominal three-phase grid voltage, to turn the stations' input power into amperes.
_GRID_VOLTAGE = 400.0


def format_instant(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a `Z`, as ChargEye writes instants."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def compact(row: dict[str, JsonValue]) -> Row:
    return {key: value for key, value in row.items() if value is not None}


def labels(items: Iterable[Label] | None, tenant_id: str) -> list[JsonValue] | None:
    """The labels `tenant_id` may see, or None when none is left."""
    shown: list[JsonValue] = [
        compact(
            {
                "value": label.value,
                "tenantIds": None if label.tenant_ids is None else list(label.tenant_ids),
            }
        )
        for label in items or ()
        if label.visible_to(tenant_id)
    ]
    return shown or None


def tenancy(row: Tenancy) -> Row:
    return compact(
        {
            "tenantIdCPO": row.cpo,
            "tenantIdEMSP": row.emsp,
            "tenantIdMaintenance": row.maintenance,
            "tenantIds": list(row.ids),
        }
    )


def location_row(location: Location, tenant_id: str) -> Row:
    estimate = location.position_estimate
    return compact(
        {
            "id": location.uid,
            **tenancy(location.tenancy),
            "name": location.name,
            "address": location.address,
            "city": location.city,
            "postalCode": location.postal_code,
            "country": location.country,
            "countryCode": location.country_code,
            "lat": location.lat,
            "lng": location.lng,
            "locationId": location.location_id,
            "roamingPoolId": location.roaming_pool_id,
            "state": location.state,
            "bounds": None if location.bounds is None else [list(p) for p in location.bounds],
            "geo": None if location.geo is None else list(location.geo),
            "labels": labels(location.labels, tenant_id),
            "positionEstimate": None
            if estimate is None
            else compact(
                {
                    "lat": estimate.lat,
                    "lng": estimate.lng,
                    "confidence": estimate.confidence,
                    "lastUpdated": None
                    if estimate.last_updated is None
                    else format_instant(estimate.last_updated),
                }
            ),
        }
    )


def station_row(station: Station, location: Location | None, tenant_id: str) -> Row:
    """The inventory view of a station (GET /locations/{locationUid}/stations)."""
    made = station.manufacturing
    kind = station.classification
    return compact(
        {
            **tenancy(station.tenancy),
            "stationId": station.station_id,
            "name": station.name,
            "classification": compact(
                {
                    "access": kind.access,
                    "applicationTypes": list(kind.application_types),
                    "facilities": list(kind.facilities),
                    "parkingType": kind.parking_type,
                }
            ),
            "commissioningRequired": station.commissioning_required,
            "customer": {"id": station.customer_id, "name": station.customer_name},
            "customerSuppliedId": station.customer_supplied_id,
            "firmwareVersion": station.firmware_version,
            "groupPath": station.group_path,
            "labels": labels(station.labels, tenant_id),
            "licenseId": station.license_id,
            "licenseTenantId": station.license_tenant_id,
            "location": None
            if location is None
            else compact(
                {
                    "id": location.uid,
                    "name": location.name,
                    "address": location.address,
                    "lat": location.lat,
                    "lng": location.lng,
                    "locationId": location.location_id,
                    "roamingPoolId": location.roaming_pool_id,
                }
            ),
            "locationUid": station.location_uid,
            "manufacturingInfo": {
                "deliveryDate": made.delivery_date.isoformat(),
                "extraOrders": list(made.extra_orders),
                "orderNumber": made.order_number,
                "partnerId": made.partner_id,
                "partnerName": made.partner_name,
                "productId": made.product_id,
                "productName": made.product_name,
                "serialNumber": made.serial_number,
                "serialNumberStatus": made.serial_number_status,
                "stock": made.stock,
            },
            "maxPowerKw": station.max_power_kw,
            "model": station.model,
            "notes": station.notes,
            "operationalStatus": station.operational_status,
            "operator": station.operator,
            "stationCapabilities": station.capabilities,
            "vendorName": station.vendor_name,
        }
    )


def amperes(station: Station, power_kw: float) -> float:
    """Input current for an output power, through the station's AC/DC efficiency."""
    return round(power_kw * 1000 / (math.sqrt(3) * _GRID_VOLTAGE * station.ac_dc_power_ratio), 1)


def station_info(
    station: Station,
    location: Location,
    connectors: list[tuple[Evse, Transaction | None]],
    tenant_id: str,
) -> Row:
    """The live view of a station (GET /stations, Charging Stations API)."""
    power = round(sum(evse.power_kw for evse, _ in connectors), 1)
    return compact(
        {
            "stationId": station.station_id,
            "name": station.name,
            "status": station.status,
            "onlineStatus": station.online_status,
            "maxPowerKw": station.max_power_kw,
            "maxPowerA": amperes(station, station.max_power_kw),
            "currentPowerKw": power,
            "currentPowerA": amperes(station, power),
            "acDcPowerRatio": station.ac_dc_power_ratio,
            "powerGroupParentPath": None
            if station.power_group_path is None
            else list(station.power_group_path),
            "stationCapabilities": station.capabilities,
            "labels": labels(station.labels, tenant_id),
            "location": compact(
                {
                    "name": location.name,
                    "lat": location.lat,
                    "lng": location.lng,
                    "address": location.address,
                }
            ),
            "locationUid": station.location_uid,
            "connectors": [connector(evse, latest) for evse, latest in connectors],
        }
    )


def connector(evse: Evse, latest: Transaction | None) -> Row:
    return compact(
        {
            "connectorId": evse.evse_id,
            "name": evse.name,
            "status": evse.status,
            "type": evse.type,
            "maxPowerKw": evse.max_power_kw,
            "maxPowerKwActual": evse.max_power_kw_actual,
            "latestTransaction": None if latest is None else latest_transaction(latest),
        }
    )


def latest_transaction(tx: Transaction) -> Row:
    return compact(
        {
            "txId": tx.tx_id,
            "connectorId": tx.evse_id,
            "status": tx.status,
            "authorizationToken": tx.authorization_token,
            "startTime": format_instant(tx.start),
            "endTime": None if tx.end is None else format_instant(tx.end),
            "chargedEnergyKwh": tx.energy_kwh,
            "powerKw": tx.power_kw if tx.end is None else 0.0,
            "soc": tx.soc,
            "updateTime": format_instant(tx.update_time),
            "powerLimitation": tx.power_limitation,
        }
    )


def network_location(location: Location, stations: list[tuple[Station, list[Evse]]]) -> Row:
    estimate = location.position_estimate
    return compact(
        {
            "id": location.uid,
            "name": location.name,
            "address": location.address,
            "city": location.city,
            "lat": location.lat,
            "lng": location.lng,
            "positionConfidence": None if estimate is None else estimate.confidence,
            "stations": [network_station(station, evses) for station, evses in stations],
        }
    )


def network_station(station: Station, evses: list[Evse]) -> Row:
    return {
        "stationId": station.station_id,
        "name": station.name,
        "locationUid": station.location_uid,
        "access": station.classification.access,
        "powerModulePowerSumKw": station.power_module_power_sum_kw,
        "evses": [network_evse(evse) for evse in evses],
    }


def network_evse(evse: Evse) -> Row:
    return compact(
        {
            "evseId": evse.evse_id,
            "evseName": evse.name,
            "evseType": evse.type,
            "stationId": evse.station_id,
            "status": evse.status,
            "maxPowerKw": evse.max_power_kw_actual,
            "maxPowerKwWithoutDynamicLimit": evse.max_power_kw,
            "txId": evse.tx_id,
            "txStatus": evse.tx_status,
        }
    )


def location_power(location_uid: str, power_kw: float, sessions: int) -> Row:
    return {"locationUid": location_uid, "currentPowerKw": power_kw, "sessionCount": sessions}


def hardware_error(error: HardwareError) -> Row:
    d = error.definition
    return {
        "stationId": error.station_id,
        "timestamp": format_instant(error.start),
        "alert": compact(
            {
                "id": error.alert_id,
                "errorCode": d.code,
                "title": d.title,
                "message": error.message,
                "type": d.alert_type,
                "timestamp": format_instant(error.start),
                "endTime": None if error.end is None else format_instant(error.end),
            }
        ),
        "error": {
            "code": d.code,
            "alias": list(d.alias),
            "description": d.description,
            "documentation": d.documentation,
            "internalNotes": d.internal_notes,
            "possibleCause": d.possible_cause,
            "potentialImpact": d.potential_impact,
            "potentialSolution": d.potential_solution,
            "selfHelpSteps": d.self_help_steps,
            "severity": d.severity,
            "state": d.state,
            "vendor": d.vendor,
            "versionCreatedTimestamp": format_instant(d.created),
            "versionModifiedTimestamp": format_instant(d.modified),
        },
    }


def _vehicle(vehicle: Vehicle | None) -> Row:
    if vehicle is None or vehicle.ev_id is None:
        return {}
    return {
        "evId": vehicle.ev_id,
        "evIdentify": {
            "clusteringTimestamp": format_instant(vehicle.first_seen),
            "displayName": vehicle.display_name,
            "seqNo": vehicle.seq_no,
        },
    }


def problematic_session(session: ProblematicSession) -> Row:
    tx = session.transaction
    vehicle = tx.vehicle
    return compact(
        {
            "alert": session.alert,
            "status": tx.status,
            "startTime": format_instant(tx.start),
            "endTime": None if tx.end is None else format_instant(tx.end),
            "locationUid": tx.location_uid,
            "scheduleId": session.schedule_id,
            **_vehicle(vehicle),
            "evModel": None if vehicle is None else vehicle.model,
            "evName": None if vehicle is None else vehicle.display_name,
            "transaction": compact(
                {
                    "txId": tx.tx_id,
                    "evseId": tx.evse_id,
                    "powerKw": tx.power_kw,
                    "soc": tx.soc,
                    "socStart": tx.soc_start,
                }
            ),
        }
    )


def network_transaction(tx: Transaction) -> Row:
    return compact(
        {
            "txId": tx.tx_id,
            "evseId": tx.evse_id,
            "locationUid": tx.location_uid,
            "status": tx.status,
            "technicalFailClassification": tx.classification,
            "startTime": format_instant(tx.start),
            "endTime": None if tx.end is None else format_instant(tx.end),
            "powerKw": tx.power_kw,
            "soc": tx.soc,
            "socStart": tx.soc_start,
            **_vehicle(tx.vehicle),
        }
    )


# --- Transactions API --------------------------------------------------------------------


def session_ms(tx: Transaction, now: datetime) -> int:
    """How long the session has held the EVSE: to its end, or to `now` while it runs."""
    return round(((tx.end or now) - tx.start).total_seconds() * 1000)


def charging_ms(tx: Transaction, now: datetime) -> int:
    """How long energy flowed. The demo's power figure is spread over the whole session,
    so a session that delivered any energy charged throughout, and one that delivered
    none never charged."""
    return session_ms(tx, now) if tx.energy_kwh > 0 else 0


def transaction(
    tx: Transaction, evse: Evse | None, location: Location | None, now: datetime
) -> Row:
    """The Transactions API's row. `powerKw` is the same figure as in the network view
    (output now while running, the average once ended)."""
    ended = tx.end is not None
    return compact(
        {
            "txId": tx.tx_id,
            "stationId": tx.station_id,
            "locationUid": tx.location_uid,
            "locationId": None if location is None else location.location_id,
            "evseId": tx.evse_id,
            "evseName": None if evse is None else evse.name,
            "evseType": None if evse is None else evse.type,
            "evseMaxPowerKw": None if evse is None else evse.max_power_kw,
            "status": tx.status,
            "technicalFailClassification": tx.classification,
            "startTime": format_instant(tx.start),
            "endTime": None if tx.end is None else format_instant(tx.end),
            "updateTime": format_instant(tx.update_time),
            "chargedEnergyKwh": tx.energy_kwh,
            "powerKw": tx.power_kw,
            "avgPowerKw": tx.power_kw if ended else None,
            "soc": tx.soc,
            "socStart": tx.soc_start,
            "socEnd": tx.soc if ended else None,
            "chargingDurationMs": charging_ms(tx, now),
            "sessionDurationMs": session_ms(tx, now),
            "authenticated": tx.authorization_token is not None,
            "authorizationMethod": None if tx.authorization_token is None else "RFID_TOKEN",
            "powerLimitation": tx.power_limitation,
        }
    )


def transactions_summary(txs: Iterable[Transaction], now: datetime) -> Row:
    """Totals over `txs`; times run to `now` for sessions still running."""
    energy = 0.0
    charging = occupied = count = 0
    for tx in txs:
        energy += tx.energy_kwh
        charging += charging_ms(tx, now)
        occupied += session_ms(tx, now)
        count += 1
    return {
        "chargedEnergyKwh": round(energy, 2),
        "chargingTimeMs": charging,
        "count": count,
        "occupiedTimeMs": occupied,
    }


def transaction_key(tx: Transaction) -> Row:
    """The `lastEvaluatedKey` naming `tx`: its key and the sort attribute, DynamoDB-style."""
    return {
        "txId": tx.tx_id,
        "stationId": tx.station_id,
        "startTime": format_instant(tx.start),
    }
