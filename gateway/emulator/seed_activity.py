"""Demo activity: 30 days of sessions on every EVSE, the sessions running now, the
problematic ones among them, and the hardware errors of the stations.

Live state and history agree: a charging EVSE carries its running session, a faulted one
an active error, and an out-of-order station stopped taking sessions when its critical
error was raised. Times are epoch seconds while drawing and UTC instants in the records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from .catalog import (
    CARS,
    CHADEMO_CARS,
    ERROR_TEXTS,
    FLEET_VEHICLES,
    SESSION_ALERTS,
    ErrorText,
)
from .draw import Weighted, hex_id, instant, new_uuid
from .records import (
    ErrorDefinition,
    Evse,
    HardwareError,
    ProblematicSession,
    Station,
    Transaction,
    Vehicle,
)
from .seed_sites import Sites
from .session_model import (
    ALARM_END,
    FLAKY_OUTCOMES,
    NO_SOC,
    NO_VEHICLE,
    OUTCOMES,
    Pools,
    battery_kwh_per_percent,
    charge_power_range_kw,
    duration_range_s,
    schedule_id,
)

HISTORY_DAYS = 30
_HOUR = 3600.0
_DAY = 24 * _HOUR

_SEVERITIES = Weighted((("warning", 35.0), ("minor", 35.0), ("major", 20.0), ("critical", 10.0)))
_ERRORS_PER_STATION = Weighted((("0", 35.0), ("1", 30.0), ("2", 20.0), ("3", 10.0), ("4", 5.0)))
_ERROR_LENGTH_S = {
    "critical": (600, 6 * _HOUR),
    "major": (1800, 2 * _DAY),
    "minor": (_HOUR, 3 * _DAY),
    "warning": (6 * _HOUR, 10 * _DAY),
}


@dataclass(frozen=True, slots=True)
class Activity:
    evses: tuple[Evse, ...]  # the drafts with their running sessions filled in
    transactions: tuple[Transaction, ...]  # newest first
    sessions: tuple[ProblematicSession, ...]  # newest first
    hardware_errors: tuple[HardwareError, ...]  # newest first
    pools: Pools


class _Drawer:
    """Draws the activity of one network; keeps the shared pools in one place."""

    def __init__(self, rng: random.Random, now: datetime, sites: Sites) -> None:
        self.rng = rng
        self.now_dt = now
        self.now = now.timestamp()
        kind_of_location = {site.location.uid: site.kind for site in sites.sites}
        self.kinds = {s.station_id: kind_of_location[s.location_uid] for s in sites.stations}
        self.pools = Pools(
            cars=self._vehicles(CARS, 240, 0),
            chademo_cars=self._vehicles(CHADEMO_CARS, 25, 240),
            fleet=self._vehicles(FLEET_VEHICLES, 40, 265),
            rfid=tuple(hex_id(rng, 14) for _ in range(200)),
            definitions=self._definitions(),
        )
        self.transactions: list[Transaction] = []
        self.sessions: list[ProblematicSession] = []
        self.errors: list[HardwareError] = []

    def _vehicles(
        self, models: tuple[tuple[str, str], ...], count: int, base: int
    ) -> tuple[Vehicle, ...]:
        rng = self.rng
        return tuple(
            Vehicle(
                ev_id=f"EVMAC:{hex_id(rng, 12)}",
                make=make,
                model=model,
                first_seen=instant(self.now - rng.uniform(31, 500) * _DAY),
                seq_no=base + n + 1,
            )
            for n, (make, model) in enumerate(rng.choice(models) for _ in range(count))
        )

    def _definitions(self) -> dict[str, ErrorDefinition]:
        def define(n: int, text: ErrorText) -> ErrorDefinition:
            return ErrorDefinition(
                code=text.code,
                title=text.title,
                severity=text.severity,
                alert_type="error" if text.severity in ("critical", "major") else "warning",
                description=text.description,
                possible_cause=text.possible_cause,
                potential_impact=text.potential_impact,
                potential_solution=text.potential_solution,
                self_help_steps=text.self_help_steps,
                documentation=text.documentation,
                internal_notes=text.internal_notes,
                alias=text.alias,
                state=text.state,
                vendor="Alfen" if text.ac_only else "Kempower",
                created=instant(self.now - (700 - 9 * n) * _DAY),
                modified=instant(self.now - (120 - 5 * n) * _DAY),
            )

        return {text.code: define(n, text) for n, text in enumerate(ERROR_TEXTS)}

    # --- per station ---------------------------------------------------------------------

    def station(self, station: Station, evses: list[Evse]) -> list[Evse]:
        rng = self.rng
        outage = None
        if station.operational_status == "OUT_OF_ORDER":
            outage = self.now - rng.uniform(6 * _HOUR, 4 * _DAY)
            code = "AC-7001" if station.is_ac else rng.choice(("PU-2210", "PU-1021", "PU-2040"))
            self._error(station, code, outage, None, None)
        elif station.online_status == "Offline" and station.operational_status == "IN_OPERATION":
            self._error(station, "COM-5101", self.now - rng.uniform(_HOUR, _DAY), None, None)
        self._history_errors(station)
        outcomes = FLAKY_OUTCOMES if rng.random() < 0.1 else OUTCOMES
        running = self._running(station, evses)
        finished = []
        for evse in evses:
            tx = running.get(evse.evse_id)
            if station.operational_status == "NOT_IN_OPERATION":
                limit = self.now - HISTORY_DAYS * _DAY  # commissioned only now: no history
            elif outage is not None:
                limit = outage
            elif tx is not None:
                limit = tx.start.timestamp()
            elif evse.status == "Faulted":
                limit = self.now - rng.uniform(20 * 60, 2 * _DAY)
                self._evse_error(station, evse, limit)
            else:
                limit = self.now
            self._history(station, evse, outcomes, limit)
            if tx is None:
                finished.append(evse)
                continue
            self.transactions.append(tx)
            if tx.status == "Alarm":
                self._evse_error(station, evse, tx.start.timestamp())
                self.sessions.append(
                    ProblematicSession(
                        tx, SESSION_ALERTS["RUNNING_ALARM"], self._schedule(station, tx.start)
                    )
                )
            finished.append(
                replace(evse, tx_id=tx.tx_id, tx_status=tx.status, power_kw=tx.power_kw)
            )
        return finished

    def _running(self, station: Station, evses: list[Evse]) -> dict[str, Transaction]:
        """The sessions on the station's EVSEs right now, keyed by evse id."""
        rng = self.rng
        charging = [e for e in evses if e.status == "Charging"]
        wanted = {e.evse_id: self._charge_power(station, e) for e in charging}
        total = sum(wanted.values())
        if total > station.max_power_kw * 0.95:  # satellites share one power unit
            scale = station.max_power_kw * 0.95 / total
            wanted = {k: round(v * scale, 1) for k, v in wanted.items()}
        shared = len(charging) > 1
        result = {}
        for evse in evses:
            if evse.status == "Charging":
                elapsed = rng.uniform(180, (5 * _HOUR) if station.is_ac else 3000)
                limitation = (
                    "Grid" if station.power_group_path else "Shared" if shared else "Vehicle"
                )
                result[evse.evse_id] = self._live(
                    station, evse, "Charging", elapsed, wanted[evse.evse_id], limitation
                )
            elif evse.status == "Occupied":
                idle = rng.random() < 0.7
                status = "PluggedInIdle" if idle else "AuthorizedNotPluggedIn"
                elapsed = rng.uniform(300, 5400) if idle else rng.uniform(30, 120)
                result[evse.evse_id] = self._live(station, evse, status, elapsed, 0.0, None)
            elif (
                evse.status == "Faulted"
                and station.operational_status == "IN_OPERATION"
                and rng.random() < 0.4
            ):
                elapsed = rng.uniform(300, 2400)
                result[evse.evse_id] = self._live(station, evse, "Alarm", elapsed, 0.0, None)
        return result

    def _fleet(self, station: Station) -> bool:
        return self.kinds[station.station_id].fleet

    def _charge_power(self, station: Station, evse: Evse) -> float:
        low, top = charge_power_range_kw(station, evse, self._fleet(station))
        return round(self.rng.uniform(low, top), 1)

    def _live(
        self,
        station: Station,
        evse: Evse,
        status: str,
        elapsed: float,
        power: float,
        limitation: str | None,
    ) -> Transaction:
        rng = self.rng
        start = self.now - elapsed
        plugged = status != "AuthorizedNotPluggedIn"
        vehicle = self._vehicle(station, evse) if plugged else None
        soc_start = soc = None
        if vehicle is not None and not station.is_ac:
            soc_start = round(rng.uniform(8, 55))
            soc = min(97, round(soc_start + power * elapsed / _HOUR / self._battery(station)))
        return Transaction(
            tx_id=new_uuid(rng),
            station_id=station.station_id,
            evse_id=evse.evse_id,
            location_uid=station.location_uid,
            status=status,
            classification=None,
            start=instant(start),
            end=None,
            power_kw=power,
            energy_kwh=round(power * elapsed / _HOUR * 0.92, 2),
            soc=soc,
            soc_start=soc_start,
            vehicle=vehicle,
            authorization_token=rng.choice(self.pools.rfid),
            power_limitation=limitation,
            update_time=instant(self.now - rng.uniform(1, 30)),
        )

    def _battery(self, station: Station) -> float:
        return battery_kwh_per_percent(self._fleet(station))

    def _vehicle(self, station: Station, evse: Evse) -> Vehicle | None:
        return self.pools.vehicle(self.rng, station, evse, self._fleet(station))

    def _schedule(self, station: Station, start: datetime) -> str | None:
        return schedule_id(station, start, self._fleet(station))

    # --- history -------------------------------------------------------------------------

    def _history(
        self,
        station: Station,
        evse: Evse,
        outcomes: Weighted,
        limit: float,
    ) -> None:
        rng = self.rng
        rate = self.kinds[station.station_id].sessions_per_evse_day
        t = self.now - HISTORY_DAYS * _DAY + rng.expovariate(rate / _DAY)
        while True:
            outcome = outcomes.draw(rng)
            duration = self._duration(station, outcome)
            if t + duration >= limit:
                return
            tx = self._ended(station, evse, outcome, t, duration)
            self.transactions.append(tx)
            alert = SESSION_ALERTS.get(outcome)
            if alert is not None:
                self.sessions.append(
                    ProblematicSession(tx, alert, self._schedule(station, tx.start))
                )
            t += duration + rng.expovariate(rate / _DAY) + 60

    def _duration(self, station: Station, outcome: str) -> float:
        low, high = duration_range_s(station, outcome, self._fleet(station))
        return self.rng.uniform(low, high)

    def _ended(
        self, station: Station, evse: Evse, outcome: str, start: float, duration: float
    ) -> Transaction:
        rng = self.rng
        if outcome == "OK":
            power = self._charge_power(station, evse) * rng.uniform(0.6, 0.9)
        elif outcome == "LOW_POWER":
            power = rng.uniform(0.2, 1.0)
        elif outcome in ("ABRUPTLY_CANCELED", "ABRUPT_STOP"):
            power = rng.uniform(5, 40)
        else:
            power = 0.0
        energy = power * duration / _HOUR
        vehicle = None if outcome in NO_VEHICLE else self._vehicle(station, evse)
        soc_start = soc = None
        if vehicle is not None and not station.is_ac and outcome not in NO_SOC:
            soc_start = round(rng.uniform(5, 60))
            soc = min(100, round(soc_start + energy / self._battery(station)))
        end = start + duration
        return Transaction(
            tx_id=new_uuid(rng),
            station_id=station.station_id,
            evse_id=evse.evse_id,
            location_uid=station.location_uid,
            status="Alarm" if outcome in ALARM_END else "Ended",
            classification=outcome,
            start=instant(start),
            end=instant(end),
            power_kw=round(power, 1),
            energy_kwh=round(energy, 2),
            soc=soc,
            soc_start=soc_start,
            vehicle=vehicle,
            authorization_token=None
            if outcome == "NOT_IDENTIFIED"
            else rng.choice(self.pools.rfid),
            power_limitation=None,
            update_time=instant(end + rng.uniform(1, 90)),
        )

    # --- hardware errors -----------------------------------------------------------------

    def _history_errors(self, station: Station) -> None:
        rng = self.rng
        if station.is_ac and station.vendor_name != "Alfen":
            return  # third-party wallboxes without a diagnostics feed
        pool = [d for d in ERROR_TEXTS if d.ac_only == station.is_ac]
        for _ in range(int(_ERRORS_PER_STATION.draw(rng))):
            severity = _SEVERITIES.draw(rng)
            candidates = [d for d in pool if d.severity == severity] or pool
            text = rng.choice(candidates)
            start = self.now - rng.uniform(0, HISTORY_DAYS * _DAY)
            low, high = _ERROR_LENGTH_S[text.severity]
            end = start + rng.uniform(low, high)
            self._error(station, text.code, start, None if end >= self.now else end, None)

    def _evse_error(self, station: Station, evse: Evse, start: float) -> None:
        if station.is_ac:
            code = self.rng.choice(("AC-7001", "AC-7105"))
        else:
            code = self.rng.choice(("SAT-3102", "SAT-3307", "PU-2040"))
        self._error(station, code, start, None, evse)

    def _error(
        self, station: Station, code: str, start: float, end: float | None, evse: Evse | None
    ) -> None:
        definition = self.pools.definitions[code]
        part = (
            f"outlet {evse.evse_id}"
            if evse is not None
            else ("socket 1" if station.is_ac else "power unit")
        )
        self.errors.append(
            HardwareError(
                alert_id=new_uuid(self.rng),
                station_id=station.station_id,
                definition=definition,
                message=f"{definition.title} ({part})",
                start=instant(start),
                end=None if end is None else instant(end),
            )
        )


def build_activity(rng: random.Random, now: datetime, sites: Sites) -> Activity:
    drawer = _Drawer(rng, now, sites)
    by_station: dict[str, list[Evse]] = {}
    for evse in sites.evses:
        by_station.setdefault(evse.station_id, []).append(evse)
    evses = [e for s in sites.stations for e in drawer.station(s, by_station[s.station_id])]
    # Newest first, ties broken by id: sort by id, then (stably) by start, descending.
    transactions = sorted(drawer.transactions, key=lambda t: t.tx_id)
    transactions.sort(key=lambda t: t.start, reverse=True)
    sessions = sorted(drawer.sessions, key=lambda s: s.transaction.tx_id)
    sessions.sort(key=lambda s: s.transaction.start, reverse=True)
    errors = sorted(drawer.errors, key=lambda e: e.alert_id)
    errors.sort(key=lambda e: e.start, reverse=True)
    return Activity(tuple(evses), tuple(transactions), tuple(sessions), tuple(errors), drawer.pools)
