"""The demo network: deterministic, fast to draw, realistic in size, and consistent with
itself (live state, history, sessions and errors tell one story)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from gateway.emulator import EmulatorConfig
from gateway.emulator.catalog import CITIES
from gateway.emulator.seed import NetworkSeed, build_seed
from tests.support import FIXED_NOW


def seed() -> NetworkSeed:
    return build_seed(7, FIXED_NOW)


def test_the_same_seed_gives_the_same_network() -> None:
    again = build_seed.__wrapped__(7, FIXED_NOW)
    assert again == seed()
    other = build_seed.__wrapped__(8, FIXED_NOW)
    assert other.locations != again.locations


def test_the_network_has_a_realistic_size() -> None:
    network = seed()
    assert len(network.tenants) >= 3
    assert len(network.locations) == 30
    assert 130 <= len(network.stations) <= 180
    assert 320 <= len(network.evses) <= 480
    assert len(network.transactions) >= 3000
    assert 300 <= len(network.sessions) < len(network.transactions) // 4
    assert len(network.hardware_errors) >= 120


def test_the_network_has_every_kind_of_state() -> None:
    network = seed()
    assert {"Available", "Charging", "Faulted", "Unavailable", "Occupied"} <= {
        e.status for e in network.evses
    }
    assert {"CCS", "CHAdeMO", "Type2", "AC"} <= {e.type for e in network.evses}
    operational = Counter(s.operational_status for s in network.stations)
    assert operational["OUT_OF_ORDER"] >= 3 and operational["NOT_IN_OPERATION"] >= 1
    classes = Counter(tx.classification for tx in network.transactions)
    assert classes["OK"] / len(network.transactions) > 0.75
    assert len([c for c in classes if c not in (None, "OK")]) >= 8
    assert {"critical", "major", "minor", "warning"} <= {
        e.definition.severity for e in network.hardware_errors
    }
    assert any(e.end is None for e in network.hardware_errors)
    assert len({s.alert for s in network.sessions}) >= 5
    assert any(label.tenant_ids for loc in network.locations for label in loc.labels or ())


def test_places_look_real() -> None:
    cities = {city.name: city for city, _ in CITIES}
    for location in seed().locations:
        assert location.city is not None and location.lat is not None
        assert location.lng is not None and location.postal_code is not None
        city = cities[location.city]
        assert location.country_code == city.country_code
        assert abs(location.lat - city.lat) < 0.1 and abs(location.lng - city.lng) < 0.15
        assert len(location.postal_code) <= 10


def test_evse_ids_are_unique_within_their_station() -> None:
    network = seed()
    keys = [(e.station_id, e.evse_id) for e in network.evses]
    assert len(keys) == len(set(keys))
    stations = {s.station_id for s in network.stations}
    assert {e.station_id for e in network.evses} == stations
    assert len(stations) == len(network.stations)


def test_history_stays_inside_the_window_and_never_overlaps() -> None:
    network = seed()
    evses = {(e.station_id, e.evse_id): e for e in network.evses}
    stations = {s.station_id: s for s in network.stations}
    earliest = FIXED_NOW - timedelta(days=30)
    last_end: dict[tuple[str, str], datetime] = {}
    for tx in reversed(network.transactions):  # oldest first
        key = (tx.station_id, tx.evse_id)
        assert key in evses
        assert stations[tx.station_id].location_uid == tx.location_uid
        assert earliest <= tx.start <= FIXED_NOW
        assert tx.end is None or tx.start < tx.end <= FIXED_NOW
        assert key not in last_end or last_end[key] <= tx.start
        last_end[key] = tx.end or FIXED_NOW
    ids = [tx.tx_id for tx in network.transactions]
    assert len(ids) == len(set(ids))


def test_live_state_matches_the_running_sessions() -> None:
    network = seed()
    running = {(tx.station_id, tx.evse_id): tx for tx in network.transactions if tx.end is None}
    for evse in network.evses:
        tx = running.get((evse.station_id, evse.evse_id))
        assert (tx is None) == (evse.tx_id is None)
        if tx is not None:
            assert (evse.tx_id, evse.tx_status, evse.power_kw) == (tx.tx_id, tx.status, tx.power_kw)
            assert tx.classification is None
        assert (evse.status == "Charging") == (evse.power_kw > 0)
        assert evse.power_kw <= evse.max_power_kw_actual <= evse.max_power_kw
    for station in network.stations:
        output = sum(e.power_kw for e in network.evses if e.station_id == station.station_id)
        assert output <= station.max_power_kw


def test_sessions_and_errors_follow_the_stations() -> None:
    network = seed()
    failed = {tx.tx_id for tx in network.transactions if tx.classification not in ("OK",)}
    assert all(s.transaction.tx_id in failed for s in network.sessions)
    stations = {s.station_id: s for s in network.stations}
    assert all(e.station_id in stations for e in network.hardware_errors)
    for station in stations.values():
        if station.operational_status == "OUT_OF_ORDER":
            assert any(
                e.station_id == station.station_id
                and e.end is None
                and e.definition.severity in ("critical", "major")
                for e in network.hardware_errors
            )
    assert all(e.end is None or e.start < e.end <= FIXED_NOW for e in network.hardware_errors)


def test_the_default_anchor_is_the_current_hour() -> None:
    anchor = EmulatorConfig().anchor()
    now = datetime.now(UTC)
    assert anchor.minute == anchor.second == anchor.microsecond == 0
    assert timedelta(0) <= now - anchor < timedelta(hours=1, seconds=5)
    assert EmulatorConfig(now=FIXED_NOW).anchor() == FIXED_NOW
