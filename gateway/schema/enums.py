"""GraphQL enums: the upstream's open enums, each with an `UNKNOWN` member.

`strawberry.enum` marks the upstream classes in place, so schema modules annotate with
the same classes the client decodes into; import them from here so the marking is done.
"""

from __future__ import annotations

import enum

import strawberry

from gateway.upstream.models.enums import (
    Access,
    ApplicationType,
    EvseStatus,
    EvseType,
    Facility,
    OnlineStatus,
    ParkingType,
    StationOperationalStatus,
    StationStatus,
    TechnicalFailClassification,
    TxStatus,
)

UNKNOWN = "Stands for a value the upstream sent that the gateway does not know yet."


def _describe(cls: type[enum.Enum], description: str, **values: str) -> None:
    """Mark `cls` as a GraphQL enum, describing it and every one of its values.

    The upstream class stays a plain `StrEnum` (the client decodes into it), so value
    descriptions are set on Strawberry's definition rather than with `enum_value`.
    """
    strawberry.enum(cls, description=description)
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    missing = {value.name for value in definition.values} ^ set(values)
    if missing:
        raise TypeError(f"{cls.__name__}: describe exactly its values, not {sorted(missing)}")
    for value in definition.values:
        value.description = values[value.name]


_describe(
    Access,
    "Who may charge at a station.",
    PUBLIC="Open to any EV driver.",
    PRIVATE="Restricted to a site's own users or a user group (e.g. behind a barrier).",
    UNKNOWN=UNKNOWN,
)
_describe(
    ApplicationType,
    "Intended use of a site.",
    DEPOT="A depot, e.g. for a bus or delivery fleet.",
    DINING="A restaurant or other place to eat.",
    HIGHWAY_FUEL_STATION="A fuel or service station by a highway.",
    LODGING="A hotel or other accommodation.",
    MARINE_DOCK="A harbour or boat dock.",
    PARKING_LOT="A general parking area.",
    RECREATION="A leisure or recreation site.",
    RESIDENTAL="Housing (the upstream's spelling, kept as is).",
    RETAIL_STORE="A shop.",
    SHOPPING_MALL="A shopping centre.",
    TRANSPORTATION="A transport hub, e.g. a station or terminal.",
    WAREHOUSE="A warehouse or logistics site.",
    WORKPLACE="Employee parking at a workplace.",
    UNKNOWN=UNKNOWN,
)
_describe(
    Facility,
    "Facility a site belongs to or lies next to (the OCPI 2.2.1 list).",
    AIRPORT="An airport.",
    BIKE_SHARING="A bike-sharing station.",
    BUS_STOP="A bus stop.",
    CAFE="A café.",
    CARPOOL_PARKING="A car-pool or park-and-ride car park.",
    FUEL_STATION="A fuel station.",
    HOTEL="A hotel.",
    MALL="A shopping mall.",
    METRO_STATION="A metro station.",
    MUSEUM="A museum.",
    NATURE="A nature spot or park.",
    PARKING_LOT="A car park.",
    RECREATION_AREA="A recreation area.",
    RESTAURANT="A restaurant.",
    SPORT="A sports venue.",
    SUPERMARKET="A supermarket.",
    TAXI_STAND="A taxi rank.",
    TRAIN_STATION="A railway station.",
    TRAM_STOP="A tram stop.",
    WIFI="Wi-Fi is available.",
    UNKNOWN=UNKNOWN,
)
_describe(
    ParkingType,
    "Kind of parking place (the OCPI 2.2.1 list).",
    ALONG_MOTORWAY="A rest area or services on a motorway.",
    PARKING_GARAGE="A multi-storey car park.",
    PARKING_LOT="An open, ground-level car park.",
    ON_DRIVEWAY="A private driveway.",
    ON_STREET="A public kerbside space.",
    UNDERGROUND_GARAGE="A car park mostly below ground.",
    UNKNOWN=UNKNOWN,
)
_describe(
    StationOperationalStatus,
    "Operational state set by the operator (not the live OCPP state).",
    IN_OPERATION="Commissioned and meant to serve drivers.",
    NOT_IN_OPERATION="Not in service.",
    OUT_OF_ORDER="Marked out of order by the operator.",
    UNKNOWN=UNKNOWN,
)
_describe(
    EvseType,
    "Connector standard of an EVSE.",
    AC="Alternating-current outlet.",
    CCS="Combined Charging System (DC).",
    CHADEMO="CHAdeMO (DC); `CHAdeMO` upstream.",
    TYPE2="Type 2 (IEC 62196, AC); `Type2` upstream.",
    OPPCHARGE="OppCharge pantograph, e.g. for buses; `oppcharge` upstream.",
    UNKNOWN=UNKNOWN,
)
_describe(
    EvseStatus,
    "Live state of an EVSE.",
    AVAILABLE="Free and ready for a new session.",
    CHARGING="Delivering energy to a vehicle.",
    FAULTED="Out of service because of a fault.",
    OCCUPIED="In use (plugged in or authorised) but not charging.",
    RESERVED="Held for a reservation.",
    UNAVAILABLE="Switched off or made unavailable on purpose.",
    UNKNOWN="The upstream does not know the state, or sent one the gateway does not know.",
)
_describe(
    TxStatus,
    "Phase of a charging transaction.",
    ALARM="A fault was raised during the session.",
    AUTHORIZED_NOT_PLUGGED_IN="The driver is identified but no cable is connected yet.",
    CHARGING="Energy is flowing.",
    ENDED="The session is over.",
    INSULATION_TEST="The DC isolation check before charging is running.",
    PLUGGED_IN_IDLE="The cable is connected but no energy is flowing.",
    UNKNOWN="The upstream does not know the phase, or sent one the gateway does not know.",
)
_describe(
    TechnicalFailClassification,
    "Verdict on how a session went.",
    ABRUPTLY_CANCELED="The driver stopped the session within about 10 s of its start.",
    ABRUPT_STOP="The session ended within about 10 s of its start, not by the driver.",
    HANDSHAKE_CANCELED="The driver stopped it (car, charger or app) while charging was set up.",
    HANDSHAKE_FAIL="Plugged in and authorised, but charging never started.",
    INVALID_SESSION="Neither plugged in nor authorised.",
    INVALID_USER="A remote system refused the driver and ended the session.",
    LOW_POWER="Energy flowed, but only at about 1 kW or less.",
    NOT_IDENTIFIED="Plugged in but never authorised.",
    NOT_PLUGGED_IN="Authorised, but no cable was ever connected.",
    OK="A normal session.",
    UNKNOWN=UNKNOWN + " Not accepted as a filter.",
)
_describe(
    OnlineStatus,
    "Whether the OCPP link is up.",
    OFFLINE="The station is not connected.",
    ONLINE="The station is connected.",
    UNKNOWN=UNKNOWN,
)
_describe(
    StationStatus,
    "OCPP availability of a station.",
    FAULTED="The station reports a fault.",
    OPERATIVE="The station is available for charging.",
    UNAVAILABLE="The station has been made unavailable.",
    UNKNOWN=UNKNOWN,
)

__all__ = [
    "Access",
    "ApplicationType",
    "EvseStatus",
    "EvseType",
    "Facility",
    "OnlineStatus",
    "ParkingType",
    "StationOperationalStatus",
    "StationStatus",
    "TechnicalFailClassification",
    "TxStatus",
]
