"""The live clock: the demo network moves on by steps of simulated time.

A step (`EmulatorConfig.step_s` of demo time) plays what happens on every EVSE of the
stations in operation and online: sessions start on available EVSEs, running ones draw
power and end as planned, idle EVSEs now and then fault (raising a hardware error) and
recover later (clearing it). Sessions arrive about as often as it takes to keep each site
about as busy as the seed left it, so across the 30 demo sites a step changes a few EVSEs
and moves the power figures, without churning everything.

Deterministic: step `k` draws only from `random.Random` seeded with the network's seed and
`k`, and visits stations and EVSEs in their fixed order, so the same seed, anchor and
number of steps always give the same world. Faults the seed drew, stations out of order,
offline or not commissioned, and reserved or unavailable EVSEs stay as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .catalog import SESSION_ALERTS
from .draw import instant, new_uuid
from .live_sessions import LiveSession, adopt, evse_status, finish, run_on, start
from .network import Network
from .records import Evse, HardwareError, ProblematicSession, Station, Transaction
from .session_model import duration_range_s, schedule_id

_HOUR = 3600.0
# Sites stay about as busy as the seed's snapshot: the share of time an EVSE holds a
# session grows with how popular the site kind is, up to this much.
_BUSY_SHARE_PER_DAILY_SESSION = 0.45
_MAX_BUSY_SHARE = 0.6
# About one fault every ten demo minutes across the network, each fixed within the hour.
_FAULTS_PER_EVSE_HOUR = 0.025
_FAULT_LENGTH_S = (5 * 60.0, 40 * 60.0)
# Stations share their power units; sessions never take more than this share of the rating.
_STATION_POWER_SHARE = 0.95

EvseKey = tuple[str, str]  # (stationId, evseId)


@dataclass(frozen=True, slots=True)
class StepSummary:
    """What `advance` changed, over every step it took."""

    step: int  # the clock's step count afterwards (0 = the seeded world)
    now: datetime  # the data's instant afterwards
    started: tuple[str, ...] = ()  # txIds of the sessions that started
    ended: tuple[str, ...] = ()  # txIds of the sessions that ended
    faulted: tuple[EvseKey, ...] = ()  # EVSEs that went Faulted
    recovered: tuple[EvseKey, ...] = ()  # EVSEs that came back Available
    errors_raised: tuple[str, ...] = ()  # alert ids of the new hardware errors
    errors_cleared: tuple[str, ...] = ()  # alert ids of the errors that got an end time


@dataclass(slots=True)
class _Fault:
    error: HardwareError
    recovers_at: float  # epoch seconds


@dataclass(slots=True)
class _Changes:
    """What one step did, gathered while it runs: the events, and the rows to record."""

    stamp: datetime  # the step's end: when the network learns what happened

    started: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    faulted: list[EvseKey] = field(default_factory=list)
    recovered: list[EvseKey] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    new_transactions: dict[str, Transaction] = field(default_factory=dict)
    changed_transactions: dict[str, Transaction] = field(default_factory=dict)
    new_errors: dict[str, HardwareError] = field(default_factory=dict)
    changed_errors: dict[str, HardwareError] = field(default_factory=dict)
    problems: list[ProblematicSession] = field(default_factory=list)


class LiveWorld:
    """The clock of one emulator's network, and what it needs to remember between steps."""

    def __init__(self, network: Network, step_s: float) -> None:
        self.network = network
        self.step_s = step_s
        self.anchor = network.seed.now
        self._seed = network.seed.seed
        self._kinds = network.seed.site_kinds
        self._pools = network.seed.pools
        self._stations = [
            station
            for station in network.stations
            if station.operational_status == "IN_OPERATION" and station.online_status == "Online"
        ]
        self._start_rate = {s.station_id: self._session_rate(s) for s in self._stations}
        self.reset()

    def reset(self) -> None:
        """Back to step 0 (the network itself is reset by its owner)."""
        self.step = 0
        self._sessions: dict[EvseKey, LiveSession] | None = None  # adopted at the first step
        self._faults: dict[EvseKey, _Fault] = {}

    @property
    def now(self) -> datetime:
        """The data's instant: the anchor plus the steps taken."""
        return self.anchor + timedelta(seconds=self.step * self.step_s)

    def advance(self, steps: int = 1) -> StepSummary:
        """Move the world on by `steps` steps and say what changed."""
        if steps < 1:
            raise ValueError("steps must be at least 1")
        taken = [self._step() for _ in range(steps)]
        return StepSummary(
            step=self.step,
            now=self.now,
            started=tuple(tx_id for c in taken for tx_id in c.started),
            ended=tuple(tx_id for c in taken for tx_id in c.ended),
            faulted=tuple(key for c in taken for key in c.faulted),
            recovered=tuple(key for c in taken for key in c.recovered),
            errors_raised=tuple(alert_id for c in taken for alert_id in c.raised),
            errors_cleared=tuple(alert_id for c in taken for alert_id in c.cleared),
        )

    # --- one step --------------------------------------------------------------------------

    def _step(self) -> _Changes:
        sessions = self._adopted()
        step = self.step + 1
        rng = random.Random(f"chargeye-live:{self._seed}:{step}")
        since = self.anchor.timestamp() + self.step * self.step_s
        until = since + self.step_s
        changes = _Changes(stamp=instant(until))
        for station in self._stations:
            outlets = self.network.evses_of(station.station_id)
            for n in range(len(outlets)):
                self._evse(rng, sessions, changes, station, outlets, n, since, until)
        self._record(changes)
        self.step = step
        return changes

    def _evse(
        self,
        rng: random.Random,
        sessions: dict[EvseKey, LiveSession],
        changes: _Changes,
        station: Station,
        outlets: list[Evse],
        n: int,
        since: float,
        until: float,
    ) -> None:
        """Play [since, until] on the station's `n`th EVSE, event after event; `outlets`
        is the station's EVSEs as they are now."""
        evse = outlets[n]
        key = (evse.station_id, evse.evse_id)
        t = since
        while True:
            session = sessions.get(key)
            if session is not None:
                if session.ends_at > until:
                    self._run_on(rng, changes, session, outlets, n, t, until)
                    return
                self._end(sessions, changes, key, session, outlets, n, t, until)
                t = session.ends_at
                continue
            fault = self._faults.get(key)
            if fault is not None:
                if fault.recovers_at > until:
                    return
                self._recover(changes, key, fault, outlets, n)
                t = fault.recovers_at
                continue
            if outlets[n].status != "Available":
                return  # reserved, unavailable, or a fault the seed drew: left alone
            session_rate = self._start_rate[station.station_id]
            fault_rate = _FAULTS_PER_EVSE_HOUR / _HOUR
            # Never at `since` itself: the step before may have put a row at that instant.
            t = max(t + rng.expovariate(session_rate + fault_rate), since + 0.001)
            if t > until:
                return
            if rng.random() * (session_rate + fault_rate) < fault_rate:
                self._fault(rng, changes, key, station, outlets, n, t)
                continue
            fleet = self._fleet(station)
            headroom = _headroom(station, outlets, n)
            started = start(rng, self._pools, station, outlets[n], fleet, t, headroom)
            if started is None:
                continue
            sessions[key] = started
            tx = started.tx
            changes.new_transactions[tx.tx_id] = tx
            changes.started.append(tx.tx_id)
            self._put(outlets, n, evse_status(tx.status), tx.power_kw, tx)

    def _run_on(
        self,
        rng: random.Random,
        changes: _Changes,
        session: LiveSession,
        outlets: list[Evse],
        n: int,
        since: float,
        until: float,
    ) -> None:
        station = session.station
        if station.power_group_path:
            limitation = "Grid"
        else:
            sharing = sum(1 for e in outlets if e.status == "Charging") > 1
            limitation = "Shared" if sharing else "Vehicle"
        evse = outlets[n]
        headroom = _headroom(station, outlets, n)
        tx = run_on(rng, session, evse, since, until, changes.stamp, headroom, limitation)
        self._changed(changes, tx)
        if tx.power_kw != evse.power_kw:
            self._put(outlets, n, evse.status, tx.power_kw, tx)

    def _end(
        self,
        sessions: dict[EvseKey, LiveSession],
        changes: _Changes,
        key: EvseKey,
        session: LiveSession,
        outlets: list[Evse],
        n: int,
        since: float,
        until: float,
    ) -> None:
        tx = finish(session, since, until)
        del sessions[key]
        self._changed(changes, tx)
        changes.ended.append(tx.tx_id)
        alert = SESSION_ALERTS.get(session.outcome)
        if alert is not None:
            schedule = schedule_id(session.station, tx.start, self._fleet(session.station))
            changes.problems.append(ProblematicSession(tx, alert, schedule))
        self._put(outlets, n, "Available", 0.0, None)

    def _fault(
        self,
        rng: random.Random,
        changes: _Changes,
        key: EvseKey,
        station: Station,
        outlets: list[Evse],
        n: int,
        at: float,
    ) -> None:
        # The outlet faults the seed draws for faulted EVSEs, with the seed's wording.
        codes = ("AC-7001", "AC-7105") if station.is_ac else ("SAT-3102", "SAT-3307", "PU-2040")
        definition = self._pools.definitions[rng.choice(codes)]
        error = HardwareError(
            alert_id=new_uuid(rng),
            station_id=station.station_id,
            definition=definition,
            message=f"{definition.title} (outlet {outlets[n].evse_id})",
            start=instant(at),
            end=None,
        )
        self._faults[key] = _Fault(error, at + rng.uniform(*_FAULT_LENGTH_S))
        changes.new_errors[error.alert_id] = error
        changes.faulted.append(key)
        changes.raised.append(error.alert_id)
        self._put(outlets, n, "Faulted", 0.0, None)

    def _recover(
        self, changes: _Changes, key: EvseKey, fault: _Fault, outlets: list[Evse], n: int
    ) -> None:
        del self._faults[key]
        error = replace(fault.error, end=instant(fault.recovers_at))
        if error.alert_id in changes.new_errors:
            changes.new_errors[error.alert_id] = error
        else:
            changes.changed_errors[error.alert_id] = error
        changes.recovered.append(key)
        changes.cleared.append(error.alert_id)
        self._put(outlets, n, "Available", 0.0, None)

    def _put(
        self, outlets: list[Evse], n: int, status: str, power_kw: float, tx: Transaction | None
    ) -> None:
        """Set the `n`th EVSE's live state, here and in the network (built directly: this
        runs for most sessions every step, and `dataclasses.replace` costs twice as much)."""
        old = outlets[n]
        evse = Evse(
            station_id=old.station_id,
            evse_id=old.evse_id,
            name=old.name,
            type=old.type,
            status=status,
            max_power_kw=old.max_power_kw,
            max_power_kw_actual=old.max_power_kw_actual,
            power_kw=power_kw,
            tx_id=None if tx is None else tx.tx_id,
            tx_status=None if tx is None else tx.status,
        )
        outlets[n] = evse
        self.network.put_evse(evse)

    def _changed(self, changes: _Changes, tx: Transaction) -> None:
        if tx.tx_id in changes.new_transactions:
            changes.new_transactions[tx.tx_id] = tx
        else:
            changes.changed_transactions[tx.tx_id] = tx

    def _record(self, changes: _Changes) -> None:
        """Hand the step's rows to the network: new ones oldest first, so each is the newest
        when it arrives (ties by id, as the views order them)."""
        network = self.network
        for tx in changes.changed_transactions.values():
            network.update_transaction(tx)
        arrivals = sorted(changes.new_transactions.values(), key=lambda tx: tx.tx_id, reverse=True)
        for tx in sorted(arrivals, key=lambda tx: tx.start):
            network.add_transaction(tx)
        for session in changes.problems:
            network.add_problematic_session(session)
        for error in changes.changed_errors.values():
            network.update_hardware_error(error)
        raised = sorted(changes.new_errors.values(), key=lambda e: e.alert_id, reverse=True)
        for error in sorted(raised, key=lambda e: e.start):
            network.add_hardware_error(error)

    # --- helpers ---------------------------------------------------------------------------

    def _adopted(self) -> dict[EvseKey, LiveSession]:
        """The running sessions, the seed's taken over at the first step."""
        if self._sessions is None:
            rng = random.Random(f"chargeye-live:{self._seed}:0")
            now = self.anchor.timestamp()
            self._sessions = {}
            for station in self._stations:
                for evse in self.network.evses_of(station.station_id):
                    if evse.tx_id is None or evse.status == "Faulted":
                        continue  # idle, or an alarm the seed drew: it stays
                    tx = self.network.transaction(evse.tx_id)
                    assert tx is not None  # a busy EVSE carries its running session
                    session = adopt(rng, tx, station, self._fleet(station), now)
                    self._sessions[(station.station_id, evse.evse_id)] = session
        return self._sessions

    def _fleet(self, station: Station) -> bool:
        return self._kinds[station.location_uid].fleet

    def _session_rate(self, station: Station) -> float:
        """Session arrivals per second on an idle EVSE of `station`."""
        kind = self._kinds[station.location_uid]
        busy = min(_MAX_BUSY_SHARE, _BUSY_SHARE_PER_DAILY_SESSION * kind.sessions_per_evse_day)
        low, high = duration_range_s(station, "OK", kind.fleet)
        mean_s = (low + high) / 2
        return busy / ((1 - busy) * mean_s)


def _headroom(station: Station, outlets: list[Evse], n: int) -> float:
    """The power the station can still give its `n`th outlet, beside the others."""
    others = sum(e.power_kw for e in outlets) - outlets[n].power_kw
    return station.max_power_kw * _STATION_POWER_SHARE - others
