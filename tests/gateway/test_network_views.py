"""Network-wide views: problematic sessions, hardware errors, power and the summary."""

from __future__ import annotations

from collections import Counter
from math import ceil

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator


async def test_problematic_session_drills_down_to_evse_and_location(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    sessions = network.visible_sessions(emulator.tenant_a)[:8]
    assert {s.transaction.classification for s in sessions} - {None}
    body = await gateway.query(
        """{ problematicSessions(first: 8) { nodes {
              alert status startTime
              transaction { txId evseId }
              evse { stationId evseId status }
              location { id name }
        } } }""",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    nodes = body["data"]["problematicSessions"]["nodes"]
    assert len(nodes) == len(sessions)
    for node, session in zip(nodes, sessions, strict=True):
        tx = session.transaction
        assert node["alert"] == session.alert
        assert node["transaction"] == {"txId": tx.tx_id, "evseId": tx.evse_id}
        assert node["evse"]["stationId"] == tx.station_id
        assert node["evse"]["evseId"] == tx.evse_id
        assert node["location"]["id"] == tx.location_uid


async def test_hardware_errors_filter_and_place_errors_at_their_site(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    everything = network.visible_hardware_errors(emulator.tenant_a)
    critical_active = [
        e for e in everything if e.definition.severity == "critical" and e.end is None
    ]
    assert critical_active, "the demo network must have active critical errors"
    emulator.state.page_size = 50
    body = await gateway.query(
        """{ hardwareErrors(first: 200, filter: {severities: ["CRITICAL"], activeOnly: true}) {
              nodes { stationId active alert { id title endTime }
                      error { code severity possibleCause potentialSolution }
                      location { id } }
        } }""",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    nodes = body["data"]["hardwareErrors"]["nodes"]
    assert [n["alert"]["id"] for n in nodes] == [e.alert_id for e in critical_active]
    for node in nodes:
        assert node["active"] is True and node["alert"]["endTime"] is None
        assert node["error"]["severity"] == "critical"
        station = network.station(node["stationId"])
        assert station is not None and node["location"]["id"] == station.location_uid


async def test_station_hardware_errors_share_the_location_pages(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    location = next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if len(
            {e.station_id for e in network.visible_hardware_errors(emulator.tenant_a, [loc.uid])}
        )
        > 1
    )
    errors = network.visible_hardware_errors(emulator.tenant_a, [location.uid])
    emulator.state.page_size = 100
    emulator.state.reset()
    body = await gateway.query(
        """query($id: ID!) { location(id: $id) { stations { stationId
              hardwareErrors(first: 100) { nodes { alert { id } } } } } }""",
        {"id": location.uid},
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    # Every station filters the same upstream page: one call, however many stations.
    assert emulator.state.counters["getNetworkHardwareErrors"] == 1
    for station in body["data"]["location"]["stations"]:
        expected = [e.alert_id for e in errors if e.station_id == station["stationId"]]
        got = [n["alert"]["id"] for n in station["hardwareErrors"]["nodes"]]
        assert got == expected


async def test_network_power_sums_the_locations(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    rows = emulator.state.network.currently_used_power(emulator.tenant_a)
    body = await gateway.query(
        "{ networkPower { totalPowerKw sessionCount"
        " locations { currentPowerKw location { id } } } }",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    power = body["data"]["networkPower"]
    assert power["totalPowerKw"] == round(sum(r.current_power_kw for r in rows), 3)
    assert power["sessionCount"] == sum(r.session_count for r in rows)
    assert {p["location"]["id"] for p in power["locations"]} == {r.location_uid for r in rows}


async def test_network_summary_counts_the_tenants_network(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    locations = network.visible_locations(emulator.tenant_a)
    stations = [s for loc in locations for s in network.stations_at(loc.uid)]
    evses = [e for s in stations for e in network.evses_of(s.station_id)]
    emulator.state.reset()
    body = await gateway.query(
        """{ networkSummary { locationCount stationCount evseCount faultedEvseCount
              activeSessions currentPowerKw evsesByStatus { status count } }
            locations(first: 30) { nodes { stations { stationId } } } }""",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    summary = body["data"]["networkSummary"]
    assert summary["locationCount"] == len(locations)
    assert summary["stationCount"] == len(stations)
    assert summary["evseCount"] == len(evses)
    by_status = Counter(e.status for e in evses)
    assert {row["status"]: row["count"] for row in summary["evsesByStatus"]} == {
        status.upper(): count for status, count in by_status.items()
    }
    assert summary["faultedEvseCount"] == by_status["Faulted"]
    assert summary["activeSessions"] == sum(1 for e in evses if e.tx_id is not None)
    # The whole-network walk also serves the stations of the listed locations.
    assert emulator.state.counters["getNetworkStatus"] == ceil(
        len(locations) / emulator.state.page_size
    )
