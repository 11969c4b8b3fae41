"""Closed-looking but open upstream enums.

ChargEye adds enum values without versioning, so every enum here has an `UNKNOWN` member
and a `_missing_` hook: an unseen value decodes to `UNKNOWN` and is logged once, instead
of failing the page. They are `StrEnum`s (that is, `str, Enum` with `str()` giving the
value), so a member compares equal to its wire spelling. Member names are UPPER_SNAKE;
values are the upstream spellings. Where the upstream itself has an `Unknown` value
(EvseStatus, TxStatus), that value is the `UNKNOWN` member.
"""

from __future__ import annotations

import enum
from typing import Any, cast

from gateway.upstream.models._base import report_once


class _Open:
    """Mixin: the `_missing_` hook shared by every open enum."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None  # the Enum machinery then raises ValueError
        report_once(cls.__name__, value)
        return cast("type[enum.Enum]", cls).__members__["UNKNOWN"]


class Access(_Open, enum.StrEnum):
    """Who may charge: PUBLIC = any EV driver, PRIVATE = a restricted site or group."""

    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"
    UNKNOWN = "UNKNOWN"


class ApplicationType(_Open, enum.StrEnum):
    """Intended use of a station or site."""

    DEPOT = "DEPOT"
    DINING = "DINING"
    HIGHWAY_FUEL_STATION = "HIGHWAY_FUEL_STATION"
    LODGING = "LODGING"
    MARINE_DOCK = "MARINE_DOCK"
    PARKING_LOT = "PARKING_LOT"
    RECREATION = "RECREATION"
    # The upstream spells it RESIDENTAL; the member name keeps that spelling so that
    # name and wire value never disagree.
    RESIDENTAL = "RESIDENTAL"
    RETAIL_STORE = "RETAIL_STORE"
    SHOPPING_MALL = "SHOPPING_MALL"
    TRANSPORTATION = "TRANSPORTATION"
    WAREHOUSE = "WAREHOUSE"
    WORKPLACE = "WORKPLACE"
    UNKNOWN = "UNKNOWN"


class Facility(_Open, enum.StrEnum):
    """Nearby facility a site belongs to (OCPI 2.2.1 Facility)."""

    AIRPORT = "AIRPORT"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    CAFE = "CAFE"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    HOTEL = "HOTEL"
    MALL = "MALL"
    METRO_STATION = "METRO_STATION"
    MUSEUM = "MUSEUM"
    NATURE = "NATURE"
    PARKING_LOT = "PARKING_LOT"
    RECREATION_AREA = "RECREATION_AREA"
    RESTAURANT = "RESTAURANT"
    SPORT = "SPORT"
    SUPERMARKET = "SUPERMARKET"
    TAXI_STAND = "TAXI_STAND"
    TRAIN_STATION = "TRAIN_STATION"
    TRAM_STOP = "TRAM_STOP"
    WIFI = "WIFI"
    UNKNOWN = "UNKNOWN"


class ParkingType(_Open, enum.StrEnum):
    """General kind of parking place (OCPI 2.2.1 ParkingType)."""

    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"
    UNKNOWN = "UNKNOWN"


class StationOperationalStatus(_Open, enum.StrEnum):
    """Commercial state set by the operator (not the live OCPP status)."""

    IN_OPERATION = "IN_OPERATION"
    NOT_IN_OPERATION = "NOT_IN_OPERATION"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    UNKNOWN = "UNKNOWN"


class EvseType(_Open, enum.StrEnum):
    """Connector standard of an EVSE (also the connector `type` of the Stations API)."""

    AC = "AC"
    CCS = "CCS"
    CHADEMO = "CHAdeMO"
    TYPE2 = "Type2"
    OPPCHARGE = "oppcharge"
    UNKNOWN = "UNKNOWN"


class EvseStatus(_Open, enum.StrEnum):
    """Live state of one EVSE (connector)."""

    AVAILABLE = "Available"
    CHARGING = "Charging"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    UNKNOWN = "Unknown"


class TxStatus(_Open, enum.StrEnum):
    """Phase of a transaction."""

    ALARM = "Alarm"
    AUTHORIZED_NOT_PLUGGED_IN = "AuthorizedNotPluggedIn"
    CHARGING = "Charging"
    ENDED = "Ended"
    INSULATION_TEST = "InsulationTest"
    PLUGGED_IN_IDLE = "PluggedInIdle"
    UNKNOWN = "Unknown"


class TechnicalFailClassification(_Open, enum.StrEnum):
    """Post-hoc verdict on how a session went (OK, or the kind of failure)."""

    ABRUPTLY_CANCELED = "ABRUPTLY_CANCELED"
    ABRUPT_STOP = "ABRUPT_STOP"
    HANDSHAKE_CANCELED = "HANDSHAKE_CANCELED"
    HANDSHAKE_FAIL = "HANDSHAKE_FAIL"
    INVALID_SESSION = "INVALID_SESSION"
    INVALID_USER = "INVALID_USER"
    LOW_POWER = "LOW_POWER"
    NOT_IDENTIFIED = "NOT_IDENTIFIED"
    NOT_PLUGGED_IN = "NOT_PLUGGED_IN"
    OK = "OK"
    UNKNOWN = "UNKNOWN"


class OnlineStatus(_Open, enum.StrEnum):
    """Whether a station's OCPP connection is up (Charging Stations API)."""

    OFFLINE = "Offline"
    ONLINE = "Online"
    UNKNOWN = "UNKNOWN"


class StationStatus(_Open, enum.StrEnum):
    """OCPP-level availability of a whole station (Charging Stations API)."""

    FAULTED = "Faulted"
    OPERATIVE = "Operative"
    UNAVAILABLE = "Unavailable"
    UNKNOWN = "UNKNOWN"
