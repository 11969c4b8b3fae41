"""The demo network's size, and how much of it each tenant sees.

    python -m bench network

Builds the emulator's demo network (seed 7, the tests' fixed anchor) and prints, per
tenant, the rows visible to it, plus the emulator's default page size.
"""

from __future__ import annotations

from gateway.emulator import EmulatorConfig, create_emulator_app, emulator_state
from tests.support import FIXED_NOW


async def main() -> None:
    state = emulator_state(create_emulator_app(EmulatorConfig(seed=7, now=FIXED_NOW)))
    network = state.network
    print(f"default page size {state.page_size}")
    print(
        f"whole network: {len(network.locations)} locations, {len(network.transactions)}"
        " transactions"
    )
    print(
        f"{'tenant':42} {'locations':>9} {'stations':>8} {'EVSEs':>6} {'transactions':>12}"
        f" {'sessions':>8} {'hw errors':>9}"
    )
    for tenant in state.tenants:
        stations = network.visible_stations(tenant.id)
        evses = sum(len(network.evses_of(station.station_id)) for station in stations)
        print(
            f"{tenant.name + ' (' + tenant.role_hint + ')':42}"
            f" {len(network.visible_locations(tenant.id)):9d} {len(stations):8d} {evses:6d}"
            f" {len(network.visible_transactions(tenant.id)):12d}"
            f" {len(network.visible_sessions(tenant.id)):8d}"
            f" {len(network.visible_hardware_errors(tenant.id)):9d}"
        )
