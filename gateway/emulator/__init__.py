"""The embedded ChargEye emulator: the Locations API, token refresh, `GET /stations` and the
two Transactions API reads, over a seeded demo network that a live clock can move on step
by step, with tenants, pages, latency, faults and request counters.

It imports nothing from the rest of `gateway`: it plays the far side of the wire, so a
bug shared with the gateway's client cannot hide.

    app = create_emulator_app(EmulatorConfig(seed=7, admin=True))
    state = emulator_state(app)
    state.inject("getLocations", Fault(kind="status", status=503, retry_after=2))
    state.advance(10)  # five demo minutes later: sessions started and ended, maybe a fault
"""

from .app import create_emulator_app
from .config import EmulatorConfig
from .endpoint import emulator_state
from .faults import Fault, FaultKind
from .live import StepSummary
from .network import LocationPower, Network
from .operations import OPERATION_IDS
from .records import Tenant
from .state import EmulatorState

__all__ = [
    "OPERATION_IDS",
    "EmulatorConfig",
    "EmulatorState",
    "Fault",
    "FaultKind",
    "LocationPower",
    "Network",
    "StepSummary",
    "Tenant",
    "create_emulator_app",
    "emulator_state",
]
