"""How a demo charging session goes: outcome odds, lengths, power, battery sizes, and the
vehicles and tokens that turn up. The seed's history and the live clock draw from here,
so a session started live looks like one from the history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from .draw import Weighted
from .records import ErrorDefinition, Evse, Station, Vehicle

_HOUR = 3600.0

_OUTCOME_WEIGHTS = (
    ("OK", 86.0),
    ("LOW_POWER", 2.5),
    ("NOT_IDENTIFIED", 2.0),
    ("NOT_PLUGGED_IN", 1.5),
    ("HANDSHAKE_FAIL", 3.0),
    ("HANDSHAKE_CANCELED", 1.5),
    ("INVALID_SESSION", 0.5),
    ("ABRUPTLY_CANCELED", 1.5),
    ("ABRUPT_STOP", 1.0),
    ("INVALID_USER", 0.5),
)
OUTCOMES = Weighted(_OUTCOME_WEIGHTS)
"""The classification a session ends with."""
FLAKY_OUTCOMES = Weighted(tuple((k, w if k == "OK" else w * 3) for k, w in _OUTCOME_WEIGHTS))
"""A few stations are flaky: their sessions fail about three times as often."""

_FAILED_DURATION_S = {
    "LOW_POWER": (1200, 9000),
    "NOT_IDENTIFIED": (60, 360),
    "NOT_PLUGGED_IN": (60, 180),
    "HANDSHAKE_FAIL": (30, 180),
    "HANDSHAKE_CANCELED": (30, 120),
    "INVALID_SESSION": (10, 50),
    "ABRUPTLY_CANCELED": (3, 10),
    "ABRUPT_STOP": (2, 10),
    "INVALID_USER": (20, 60),
}
NO_VEHICLE = frozenset({"NOT_PLUGGED_IN", "INVALID_SESSION"})
"""Outcomes of sessions no vehicle was plugged into."""
NO_SOC = frozenset({"NOT_PLUGGED_IN", "INVALID_SESSION", "NOT_IDENTIFIED"})
"""Outcomes of sessions that never learnt the battery's state of charge."""
ALARM_END = frozenset({"HANDSHAKE_FAIL", "ABRUPT_STOP"})
"""Outcomes that end a session in status Alarm rather than Ended."""
NOT_CHARGING = frozenset(
    {"NOT_IDENTIFIED", "NOT_PLUGGED_IN", "HANDSHAKE_FAIL", "HANDSHAKE_CANCELED"}
    | {"INVALID_SESSION", "INVALID_USER"}
)
"""Outcomes of sessions that never delivered energy."""


def duration_range_s(station: Station, outcome: str, fleet: bool) -> tuple[float, float]:
    """How long a session with this outcome holds the EVSE, in seconds."""
    if outcome != "OK":
        return _FAILED_DURATION_S[outcome]
    if station.is_ac:
        return (_HOUR, 8 * _HOUR)
    if fleet:
        return (40 * 60, 150 * 60)
    return (12 * 60, 55 * 60)


def charge_power_range_kw(station: Station, evse: Evse, fleet: bool) -> tuple[float, float]:
    """The output a charging session asks for: the vehicle's cap within the EVSE's limit."""
    cap = 11.0 if station.is_ac else 250.0 if fleet else 160.0
    top = min(evse.max_power_kw_actual, cap)
    return (min(3.6 if station.is_ac else 22.0, top), top)


def schedule_id(station: Station, start: datetime, fleet: bool) -> str | None:
    """The charging schedule a fleet session belongs to; other sites keep none."""
    if not fleet:
        return None
    return f"sch-{station.location_uid[:8]}-{start:%m%d}"


def battery_kwh_per_percent(fleet: bool) -> float:
    """Battery size in kWh per SoC percent: buses and trucks carry far bigger packs."""
    return 4.0 if fleet else 0.75


@dataclass(frozen=True, slots=True)
class Pools:
    """The vehicles, RFID tokens and error definitions of one network, drawn once."""

    cars: tuple[Vehicle, ...]
    chademo_cars: tuple[Vehicle, ...]
    fleet: tuple[Vehicle, ...]
    rfid: tuple[str, ...]
    definitions: dict[str, ErrorDefinition]

    def vehicle(
        self, rng: random.Random, station: Station, evse: Evse, fleet: bool
    ) -> Vehicle | None:
        """A vehicle that plugs into `evse`; None at AC stations, which carry no identity."""
        if station.is_ac:
            return None
        if fleet:
            return rng.choice(self.fleet)
        return rng.choice(self.chademo_cars if evse.type == "CHAdeMO" else self.cars)
