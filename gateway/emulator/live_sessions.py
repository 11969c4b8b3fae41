"""One charging session under the live clock: how it starts, runs on and ends.

A session's outcome and end are decided when it starts (as the seed decides its history),
so a step only has to ask "does it end before the step does?". Energy and state of charge
are kept exact here; the records carry them rounded, as the API shows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from .draw import instant, new_uuid
from .records import Evse, Station, Transaction
from .session_model import (
    ALARM_END,
    NO_SOC,
    NO_VEHICLE,
    NOT_CHARGING,
    OUTCOMES,
    Pools,
    battery_kwh_per_percent,
    charge_power_range_kw,
    duration_range_s,
)

_HOUR = 3600.0
MIN_CHARGING_KW = 0.1
"""A charging session always shows some output (an EVSE charges iff its power is > 0)."""
_LOW_POWER_CAP_KW = 1.0  # the LOW_POWER alert: "at or below 1 kW"
_RUNNING_SOC_CAP = 97  # vehicles stop taking charge near full; a final reading may say 100
_TAPER_FROM_SOC = 80.0  # DC charging slows down above this state of charge


@dataclass(slots=True)
class LiveSession:
    """The live clock's bookkeeping for one running session; `tx` is its record as the
    network holds it."""

    station: Station
    outcome: str  # the classification it will end with
    ends_at: float  # epoch seconds
    wanted_kw: float  # what the vehicle asks for while charging; 0 if it never charges
    battery: float  # kWh per SoC percent
    energy_kwh: float  # exact; the record's figure is rounded
    soc: float | None  # exact; None when the session never learns it
    tx: Transaction

    @property
    def charging(self) -> bool:
        return self.tx.status == "Charging"


def evse_status(tx_status: str) -> str:
    """The EVSE status that goes with a running session's status."""
    return "Charging" if tx_status == "Charging" else "Occupied"


def adopt(
    rng: random.Random, tx: Transaction, station: Station, fleet: bool, now: float
) -> LiveSession:
    """Take over a session the seed left running at `now`, deciding how it ends."""
    if tx.status == "Charging":
        outcome = "OK"
        _, longest = duration_range_s(station, outcome, fleet)
        remaining = max(600.0, longest - (now - tx.start.timestamp()))
        ends_at = now + rng.uniform(60, remaining)
    elif tx.status == "AuthorizedNotPluggedIn":
        outcome, ends_at = "NOT_PLUGGED_IN", now + rng.uniform(30, 180)
    else:  # PluggedInIdle: plugged in, never started
        outcome, ends_at = "HANDSHAKE_CANCELED", now + rng.uniform(60, 1800)
    return LiveSession(
        station=station,
        outcome=outcome,
        ends_at=ends_at,
        wanted_kw=tx.power_kw,
        battery=battery_kwh_per_percent(fleet),
        energy_kwh=tx.energy_kwh,
        soc=None if tx.soc is None else float(tx.soc),
        tx=tx,
    )


def start(
    rng: random.Random,
    pools: Pools,
    station: Station,
    evse: Evse,
    fleet: bool,
    at: float,
    headroom_kw: float,
) -> LiveSession | None:
    """A session that starts on `evse` at `at`; None when it would charge but the station
    has no power left to give (the driver moves on)."""
    outcome = OUTCOMES.draw(rng)
    low, high = duration_range_s(station, outcome, fleet)
    ends_at = at + rng.uniform(low, high)
    if outcome in NOT_CHARGING:
        status = "AuthorizedNotPluggedIn" if outcome in NO_VEHICLE else "PluggedInIdle"
        wanted = 0.0
    else:
        status = "Charging"
        if outcome == "LOW_POWER":
            wanted = rng.uniform(0.2, _LOW_POWER_CAP_KW)
        elif outcome == "OK":
            wanted = rng.uniform(*charge_power_range_kw(station, evse, fleet))
        else:  # stopped within seconds, at whatever it had ramped up to
            wanted = rng.uniform(5, 40)
        if headroom_kw < max(MIN_CHARGING_KW, min(wanted, 1.0)):
            return None
    vehicle = None if outcome in NO_VEHICLE else pools.vehicle(rng, station, evse, fleet)
    soc_start = None
    if vehicle is not None and not station.is_ac and outcome not in NO_SOC:
        soc_start = round(rng.uniform(5, 60))
    token = None if outcome == "NOT_IDENTIFIED" else rng.choice(pools.rfid)
    begun = instant(at)
    tx = Transaction(
        tx_id=new_uuid(rng),
        station_id=station.station_id,
        evse_id=evse.evse_id,
        location_uid=station.location_uid,
        status=status,
        classification=None,
        start=begun,
        end=None,
        power_kw=_power(wanted, evse, headroom_kw, outcome) if status == "Charging" else 0.0,
        energy_kwh=0.0,
        soc=soc_start,
        soc_start=soc_start,
        vehicle=vehicle,
        authorization_token=token,
        power_limitation=None,
        update_time=begun,
    )
    return LiveSession(
        station=station,
        outcome=outcome,
        ends_at=ends_at,
        wanted_kw=wanted,
        battery=battery_kwh_per_percent(fleet),
        energy_kwh=0.0,
        soc=None if soc_start is None else float(soc_start),
        tx=tx,
    )


def run_on(
    rng: random.Random,
    session: LiveSession,
    evse: Evse,
    since: float,
    until: float,
    stamp: datetime,
    headroom_kw: float,
    limitation: str | None,
) -> Transaction:
    """Account the energy of [since, until] and set the output for the next stretch;
    `stamp` is `until` as an instant."""
    _meter(session, until - since, _RUNNING_SOC_CAP)
    power = 0.0
    if session.charging:
        wanted = session.wanted_kw * rng.uniform(0.97, 1.03) * _taper(session.soc)
        power = _power(wanted, evse, headroom_kw, session.outcome)
    tx = session.tx
    # Built directly rather than with `dataclasses.replace`, which costs twice as much:
    # this runs for every running session on every step.
    session.tx = Transaction(
        tx_id=tx.tx_id,
        station_id=tx.station_id,
        evse_id=tx.evse_id,
        location_uid=tx.location_uid,
        status=tx.status,
        classification=None,
        start=tx.start,
        end=None,
        power_kw=power,
        energy_kwh=round(session.energy_kwh, 2),
        soc=_reading(session.soc),
        soc_start=tx.soc_start,
        vehicle=tx.vehicle,
        authorization_token=tx.authorization_token,
        power_limitation=limitation if session.charging else None,
        update_time=stamp,
    )
    return session.tx


def finish(session: LiveSession, since: float, stamp: float) -> Transaction:
    """End the session at its planned time; `stamp` is when the network learns of it."""
    _meter(session, session.ends_at - since, 100)
    tx = session.tx
    held_h = (session.ends_at - tx.start.timestamp()) / _HOUR
    average = session.energy_kwh / held_h if held_h > 0 else 0.0
    session.tx = replace(
        tx,
        status="Alarm" if session.outcome in ALARM_END else "Ended",
        classification=session.outcome,
        end=instant(session.ends_at),
        power_kw=round(average, 1),  # an ended session shows its average
        energy_kwh=round(session.energy_kwh, 2),
        soc=_reading(session.soc),
        power_limitation=None,
        update_time=instant(stamp),
    )
    return session.tx


def _meter(session: LiveSession, seconds: float, soc_cap: float) -> None:
    """Add the energy delivered over `seconds` at the output shown meanwhile."""
    session.energy_kwh += session.tx.power_kw * max(0.0, seconds) / _HOUR
    soc_start = session.tx.soc_start
    if session.soc is not None and soc_start is not None:
        reached = min(soc_cap, soc_start + session.energy_kwh / session.battery)
        session.soc = max(session.soc, reached)  # seeded readings may be a little ahead


def _taper(soc: float | None) -> float:
    if soc is None or soc < _TAPER_FROM_SOC:
        return 1.0
    return max(0.15, (100 - soc) / (100 - _TAPER_FROM_SOC))


def _power(wanted: float, evse: Evse, headroom_kw: float, outcome: str) -> float:
    cap = min(evse.max_power_kw_actual, headroom_kw)
    if outcome == "LOW_POWER":
        cap = min(cap, _LOW_POWER_CAP_KW)
    return max(MIN_CHARGING_KW, round(min(wanted, cap), 1))


def _reading(soc: float | None) -> float | None:
    return None if soc is None else round(soc)
