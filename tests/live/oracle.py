"""What the emulator holds, read in process: the tests' independent account of the world."""

from __future__ import annotations

from tests.support import RunningEmulator

EvseKey = tuple[str, str]


def evse_states(
    emulator: RunningEmulator, tenant: str
) -> dict[EvseKey, tuple[str, str | None, str | None]]:
    """(stationId, evseId) -> (status, txStatus, txId) of every EVSE `tenant` may see."""
    network = emulator.state.network
    return {
        (evse.station_id, evse.evse_id): (evse.status, evse.tx_status, evse.tx_id)
        for location in network.visible_locations(tenant)
        for station in network.stations_at(location.uid)
        for evse in network.evses_of(station.station_id)
    }


def location_of_evses(emulator: RunningEmulator, tenant: str) -> dict[EvseKey, str]:
    network = emulator.state.network
    return {
        (evse.station_id, evse.evse_id): location.uid
        for location in network.visible_locations(tenant)
        for station in network.stations_at(location.uid)
        for evse in network.evses_of(station.station_id)
    }


def wire_name(enum_name: str | None) -> str | None:
    """GraphQL's `PLUGGED_IN_IDLE` as the wire's `PluggedInIdle`."""
    if enum_name is None:
        return None
    return "".join(part.capitalize() for part in enum_name.split("_"))


def power(emulator: RunningEmulator, tenant: str) -> dict[str, tuple[float, int]]:
    """locationUid -> (kW in use, sessions) of every location `tenant` may see."""
    return {
        row.location_uid: (row.current_power_kw, row.session_count)
        for row in emulator.state.network.currently_used_power(tenant)
    }


def error_ids(emulator: RunningEmulator, tenant: str) -> list[str]:
    """Alert ids of the hardware errors `tenant` may see, newest first."""
    return [e.alert_id for e in emulator.state.network.visible_hardware_errors(tenant)]


def visible_locations(emulator: RunningEmulator, tenant: str) -> set[str]:
    return {location.uid for location in emulator.state.network.visible_locations(tenant)}
