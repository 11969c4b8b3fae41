"""The live clock, in process: the world moves on by steps, deterministically, a little at
a time, and keeps telling one story (live state, history, sessions and errors agree)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.emulator import EmulatorConfig, EmulatorState, StepSummary
from gateway.emulator.records import Transaction
from gateway.emulator.seed import build_seed
from tests.support import FIXED_NOW

CONFIG = EmulatorConfig(seed=7, now=FIXED_NOW)


def world(steps: int = 0, config: EmulatorConfig = CONFIG) -> EmulatorState:
    state = EmulatorState(config)
    if steps:
        state.advance(steps)
    return state


def snapshot(state: EmulatorState) -> tuple[object, ...]:
    network = state.network
    return (
        state.step,
        state.now,
        network.evses,
        tuple(network.transactions),
        tuple(network.sessions),
        tuple(network.hardware_errors),
    )


def advance_until(
    state: EmulatorState, found: Callable[[StepSummary], bool], limit: int = 400
) -> StepSummary:
    """Step until a step's summary satisfies `found`; fail after `limit` steps."""
    for _ in range(limit):
        summary = state.advance()
        if found(summary):
            return summary
    raise AssertionError(f"nothing of the kind within {limit} steps")


def running_on(state: EmulatorState, tx: Transaction) -> bool:
    evse = next(e for e in state.network.evses_of(tx.station_id) if e.evse_id == tx.evse_id)
    return evse.tx_id == tx.tx_id


# --- the clock -----------------------------------------------------------------------------


def test_step_zero_is_the_seeded_world() -> None:
    state = world()
    seed = build_seed(7, FIXED_NOW)
    assert (state.step, state.now, state.anchor) == (0, FIXED_NOW, FIXED_NOW)
    assert state.network.evses == seed.evses
    assert tuple(state.network.transactions) == seed.transactions
    assert tuple(state.network.sessions) == seed.sessions
    assert tuple(state.network.hardware_errors) == seed.hardware_errors


def test_each_step_moves_the_data_clock_by_step_s() -> None:
    state = world()
    summary = state.advance(3)
    assert (summary.step, state.step) == (3, 3)
    assert summary.now == state.now == FIXED_NOW + timedelta(seconds=90)
    slow = world(config=EmulatorConfig(seed=7, now=FIXED_NOW, step_s=600))
    slow.advance()
    assert slow.now == FIXED_NOW + timedelta(minutes=10)


@pytest.mark.parametrize("steps", [0, -1])
def test_advance_takes_at_least_one_step(steps: int) -> None:
    state = world()
    with pytest.raises(ValueError, match="at least 1"):
        state.advance(steps)
    assert state.step == 0


@pytest.mark.parametrize(("field", "value"), [("step_s", 0.5), ("tick_s", -1.0)])
def test_the_clock_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        EmulatorConfig(**{field: value})  # type: ignore[arg-type]


# --- determinism ---------------------------------------------------------------------------


def test_the_same_seed_anchor_and_steps_give_the_same_world() -> None:
    one_by_one = world()
    for _ in range(40):
        one_by_one.advance()
    in_two_calls = world(15)
    in_two_calls.advance(25)
    assert snapshot(one_by_one) == snapshot(in_two_calls)
    assert snapshot(world(39)) != snapshot(one_by_one)
    other_seed = world(40, EmulatorConfig(seed=8, now=FIXED_NOW))
    assert other_seed.network.transactions[0] != one_by_one.network.transactions[0]


def test_summaries_are_deterministic_too() -> None:
    first, second = world(), world()
    assert [first.advance() for _ in range(20)] == [second.advance() for _ in range(20)]


def test_emulators_of_one_seed_share_it_but_not_their_changes() -> None:
    moved, still = world(), world()
    assert moved.network.seed is still.network.seed  # drawn once, shared
    moved.advance(30)
    assert snapshot(still) == snapshot(world())
    assert tuple(still.network.transactions) == build_seed(7, FIXED_NOW).transactions


def test_reset_data_turns_the_clock_back_to_the_seeded_world() -> None:
    state = world()
    first = state.advance(25)
    state.reset_data()
    assert snapshot(state) == snapshot(world())
    assert state.advance(25) == first


# --- how much moves ------------------------------------------------------------------------


def test_a_step_changes_a_few_evses_not_all_of_them() -> None:
    state = world()
    changed_per_step = []
    power_moves = 0
    for _ in range(60):
        before = {(e.station_id, e.evse_id): e for e in state.network.evses}
        state.advance()
        after = state.network.evses
        changed_per_step.append(
            sum(before[(e.station_id, e.evse_id)].status != e.status for e in after)
        )
        power_moves += sum(before[(e.station_id, e.evse_id)].power_kw != e.power_kw for e in after)
    total = len(state.network.evses)
    assert sum(changed_per_step) >= 30  # on average, something happens every step
    assert max(changed_per_step) < total // 10  # but a step never churns the network
    assert power_moves >= 60 * 10  # running sessions draw a varying power


def test_sessions_start_and_end_at_about_the_seeds_pace() -> None:
    state = world()
    busy_before = sum(e.tx_id is not None for e in state.network.evses)
    summary = state.advance(300)
    busy_after = sum(e.tx_id is not None for e in state.network.evses)
    assert 100 <= len(summary.started) <= 1500
    assert abs(len(summary.started) - len(summary.ended)) <= busy_before
    assert busy_before / 2 <= busy_after <= busy_before * 2
    assert summary.faulted and summary.recovered
    assert summary.errors_raised and summary.errors_cleared


# --- one story -----------------------------------------------------------------------------


def test_the_evolved_world_keeps_the_seeds_invariants() -> None:
    state = world(150)
    network, now = state.network, state.now
    seed = build_seed(7, FIXED_NOW)
    stations = {s.station_id: s for s in network.stations}
    # Live state matches the running sessions.
    running = {(tx.station_id, tx.evse_id): tx for tx in network.transactions if tx.end is None}
    for evse in network.evses:
        tx = running.get((evse.station_id, evse.evse_id))
        assert (tx is None) == (evse.tx_id is None)
        if tx is not None:
            assert (evse.tx_id, evse.tx_status, evse.power_kw) == (tx.tx_id, tx.status, tx.power_kw)
            assert tx.classification is None
            assert network.latest_transaction(evse.station_id, evse.evse_id) == tx
        assert (evse.status == "Charging") == (evse.power_kw > 0)
        assert evse.power_kw <= evse.max_power_kw_actual
    for station in network.stations:
        output = sum(e.power_kw for e in network.evses_of(station.station_id))
        assert output <= station.max_power_kw
    # History: newest first, unique, inside [anchor - 30 days, now], never overlapping.
    keys = [(-tx.start.timestamp(), tx.tx_id) for tx in network.transactions]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    last_end: dict[tuple[str, str], datetime] = {}
    for tx in reversed(network.transactions):
        key = (tx.station_id, tx.evse_id)
        assert stations[tx.station_id].location_uid == tx.location_uid
        assert FIXED_NOW - timedelta(days=30) <= tx.start <= now
        assert tx.end is None or (tx.start < tx.end <= now and tx.classification is not None)
        assert tx.update_time <= now
        assert key not in last_end or last_end[key] <= tx.start
        last_end[key] = tx.end or now
    # Faults the clock raised carry an active error on their outlet; cleared ones ended.
    seeded_faults = {(e.station_id, e.evse_id) for e in seed.evses if e.status == "Faulted"}
    active = {(e.station_id, e.message) for e in network.hardware_errors if e.end is None}
    for evse in network.evses:
        if evse.status == "Faulted" and (evse.station_id, evse.evse_id) not in seeded_faults:
            assert any(
                station_id == evse.station_id and message.endswith(f"(outlet {evse.evse_id})")
                for station_id, message in active
            )
    error_keys = [(-e.start.timestamp(), e.alert_id) for e in network.hardware_errors]
    assert error_keys == sorted(error_keys)
    assert all(e.end is None or e.start < e.end <= now for e in network.hardware_errors)
    # Problematic sessions are failed ones, filed by start, as they ended.
    session_keys = [
        (-s.transaction.start.timestamp(), s.transaction.tx_id) for s in network.sessions
    ]
    assert session_keys == sorted(session_keys)
    for session in network.sessions:
        tx = network.transaction(session.transaction.tx_id)
        assert tx is not None and tx.classification != "OK"
        assert session.transaction == tx or tx.end is None  # the seed's running alarms


def test_a_session_starts_runs_on_and_ends() -> None:
    state = world()
    summary = advance_until(
        state,
        lambda s: any(
            (tx := state.network.transaction(tx_id)) is not None and tx.status == "Charging"
            for tx_id in s.started
        ),
    )
    tx = next(
        t
        for tx_id in summary.started
        if (t := state.network.transaction(tx_id)) is not None and t.status == "Charging"
    )
    assert state.network.transactions[0].start >= tx.start > state.now - timedelta(seconds=30)
    assert tx.end is None and tx.classification is None and tx.update_time == state.now
    assert running_on(state, tx)
    assert state.network.latest_transaction(tx.station_id, tx.evse_id) == tx
    assert (
        state.network.station_transactions(
            state.network.location(tx.location_uid).tenancy.cpo,  # type: ignore[union-attr]
            tx.station_id,
        )[0]
        == tx
    )
    energy = [tx.energy_kwh]
    while True:
        state.advance()
        now = state.network.transaction(tx.tx_id)
        assert now is not None
        if now.end is not None:
            break
        assert now.update_time == state.now and now.power_kw > 0
        energy.append(now.energy_kwh)
    assert energy == sorted(energy) and energy[-1] > energy[0]
    assert now.status in ("Ended", "Alarm") and now.classification is not None
    assert now.start < now.end <= state.now
    assert now.energy_kwh >= energy[-1]
    assert not running_on(state, now)


def test_a_fault_raises_an_error_that_recovery_ends() -> None:
    state = world()
    faulted = advance_until(state, lambda s: bool(s.faulted))
    (station_id, evse_id), alert_id = faulted.faulted[0], faulted.errors_raised[0]
    error = next(e for e in state.network.hardware_errors if e.alert_id == alert_id)
    assert error.station_id == station_id and error.end is None
    assert error.message.endswith(f"(outlet {evse_id})")
    assert error.start > state.now - timedelta(seconds=30)
    evse = next(e for e in state.network.evses_of(station_id) if e.evse_id == evse_id)
    assert (evse.status, evse.tx_id, evse.power_kw) == ("Faulted", None, 0.0)
    recovered = advance_until(state, lambda s: alert_id in s.errors_cleared)
    assert (station_id, evse_id) in recovered.recovered
    cleared = next(e for e in state.network.hardware_errors if e.alert_id == alert_id)
    assert cleared.end is not None and error.start < cleared.end <= state.now
    evse = next(e for e in state.network.evses_of(station_id) if e.evse_id == evse_id)
    assert evse.status != "Faulted"
