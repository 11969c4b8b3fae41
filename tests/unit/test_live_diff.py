"""The live layer's pure parts: diffs between snapshots, the coalescing queue, backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from gateway.errors import RateLimited, UpstreamUnavailable
from gateway.live.diff import evse_changes, new_errors, power_changes, summary_counts
from gateway.live.hub import _merge_evse
from gateway.live.policy import PollPolicy
from gateway.live.snapshots import ErrorSnapshot, PowerSnapshot, StatusSnapshot
from gateway.live.subscriber import LatestQueue
from gateway.loaders.hardware_errors import error_key
from gateway.upstream.models import (
    EvseStatus,
    HardwareError,
    HardwareErrorAlert,
    LocationPower,
    NetworkEvseStatus,
    NetworkLocationStatus,
    NetworkStationStatus,
    TxStatus,
)

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def status(*locations: tuple[str, list[tuple[str, EvseStatus, str | None]]]) -> StatusSnapshot:
    trees = [
        NetworkLocationStatus(
            id=uid,
            stations=(
                NetworkStationStatus(
                    station_id=f"S-{uid}",
                    evses=tuple(
                        NetworkEvseStatus(
                            evse_id=evse_id,
                            status=state,
                            tx_id=tx_id,
                            tx_status=TxStatus.CHARGING if tx_id else None,
                        )
                        for evse_id, state, tx_id in evses
                    ),
                ),
            ),
        )
        for uid, evses in locations
    ]
    return StatusSnapshot.of(None, trees)


A, C, F = EvseStatus.AVAILABLE, EvseStatus.CHARGING, EvseStatus.FAULTED


def test_no_change_no_event_and_one_per_changed_evse() -> None:
    old = status(("L1", [("1", A, None), ("2", A, None)]), ("L2", [("1", A, None)]))
    assert evse_changes(old, old) == ()
    new = status(("L1", [("1", C, "tx9"), ("2", A, None)]), ("L2", [("1", F, None)]))
    changes = evse_changes(old, new)
    assert [(c.after.location_uid, c.after.row.evse_id) for c in changes] == [
        ("L1", "1"),
        ("L2", "1"),
    ]
    assert changes[0].before is not None and changes[0].before.row.status == A
    assert evse_changes(None, new) == ()  # a first poll is a baseline


def test_a_session_change_alone_is_a_change_and_new_evses_are_not() -> None:
    old = status(("L1", [("1", C, "tx1")]))
    new = status(("L1", [("1", C, "tx2"), ("2", A, None)]))  # another session, a new EVSE
    [change] = evse_changes(old, new)
    assert change.after.row.tx_id == "tx2"


def test_a_change_that_flaps_back_cancels_out_in_the_queue() -> None:
    one = status(("L1", [("1", A, None)]))
    two = status(("L1", [("1", F, None)]))
    queue: LatestQueue[object] = LatestQueue(10, _merge_evse)  # type: ignore[arg-type]
    [there] = evse_changes(one, two)
    [back] = evse_changes(two, one)
    queue.offer(there.key, there)
    queue.offer(back.key, back)
    assert len(queue) == 0
    three = status(("L1", [("1", C, "tx")]))
    queue.offer(there.key, there)
    [on] = evse_changes(two, three)
    queue.offer(on.key, on)
    [merged] = [queue.take()]
    assert merged.before.row.status == A and merged.after.row.status == C  # type: ignore[attr-defined]


def test_the_queue_is_bounded_and_keeps_the_latest() -> None:
    queue: LatestQueue[int] = LatestQueue(2)
    for value in range(10):
        queue.offer("k", value)
    assert len(queue) == 1 and queue.take() == 9
    for key in "abc":
        queue.offer(key, 1)
    assert len(queue) == 2 and queue.dropped == 1 and queue.take() == 1


def test_power_changes_only_where_both_polls_looked() -> None:
    old = PowerSnapshot.of(("L1",), [LocationPower(location_uid="L1", current_power_kw=5.0)])
    new = PowerSnapshot.of(
        ("L1", "L2"),
        [
            LocationPower(location_uid="L1", current_power_kw=7.0, session_count=1),
            LocationPower(location_uid="L2", current_power_kw=3.0),
        ],
    )
    [change] = power_changes(old, new)
    assert change.after.location_uid == "L1" and change.after.current_power_kw == 7.0
    assert power_changes(new, new) == ()


def error(alert_id: str, minutes: int) -> HardwareError:
    stamp = T0 + timedelta(minutes=minutes)
    return HardwareError(station_id="S1", timestamp=stamp, alert=HardwareErrorAlert(id=alert_id))


def errors(scope: tuple[str, ...] | None, *rows: HardwareError) -> ErrorSnapshot:
    return ErrorSnapshot(scope, rows, frozenset(error_key(row) for row in rows))


def test_new_errors_and_a_widened_scope() -> None:
    old = errors(None, error("e1", 0))
    assert new_errors(old, errors(None, error("e2", 5), error("e1", 0)))[0].alert.id == "e2"  # type: ignore[union-attr]
    assert new_errors(None, old) == ()
    # The scope grew: an older error of the newly covered location is not new.
    narrow = errors(("L1",), error("e1", 10))
    wide = errors(("L1", "L2"), error("e3", 12), error("e1", 10), error("e0", 1))
    assert [row.alert.id for row in new_errors(narrow, wide)] == ["e3"]  # type: ignore[union-attr]


def test_summary_counts_over_a_scope() -> None:
    snapshot = status(("L1", [("1", C, "tx"), ("2", F, None)]), ("L2", [("1", A, None)]))
    counts = summary_counts(snapshot, ("L1",))
    assert (counts.location_count, counts.evse_count, counts.faulted, counts.active_sessions) == (
        1,
        2,
        1,
        1,
    )
    assert summary_counts(snapshot, None).evse_count == 3


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    policy = PollPolicy(jitter=0.0, max_backoff_s=60.0, rng=random.Random(1))
    failure = UpstreamUnavailable("down")
    assert [policy.backoff(5.0, n, failure) for n in (1, 2, 3, 5)] == [10.0, 20.0, 40.0, 60.0]
    slow_down = RateLimited("429", retry_after_s=300.0)
    assert policy.backoff(5.0, 1, slow_down) == 300.0
    jittered = PollPolicy(jitter=0.1, rng=random.Random(1))
    assert all(4.5 <= jittered.pause(5.0) <= 5.5 for _ in range(100))
    assert all(jittered.backoff(5.0, 1, slow_down) >= 300.0 for _ in range(100))
