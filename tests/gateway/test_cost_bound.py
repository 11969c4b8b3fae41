"""The cost estimate is an upper bound of the calls a request makes, and not a loose one.

Every shape below runs twice against the emulator: cold (the gateway has seen nothing of
the caller's network) and warm (it has, from the first run). Both times the estimate the
gateway reports (`X-Gateway-Cost: 1`) must be at least the calls counted at the emulator;
warm, it must also be at most three times as many, so that it does not refuse what is
cheap. The shapes cover every priced relation, the README examples and `_entities` of each
entity type with many distinct parents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Location { id name }
  ... on Station { stationId model access }
  ... on Evse { evseId status station { name } }
} }"""


@dataclass(frozen=True)
class Shape:
    name: str
    query: str
    variables: Any = None  # a function of the emulator, or a dict
    # False where the data decides: the EVSE of a network transaction needs the
    # Transactions API only when its id repeats at the site AND the session has ended,
    # which the rows say only once fetched; the estimate charges the worst case.
    tight: bool = True


def _locations(emulator: RunningEmulator, n: int) -> list[Any]:
    return emulator.state.network.visible_locations(emulator.tenant_a)[:n]


def _stations(emulator: RunningEmulator, n: int) -> list[Any]:
    """Stations of distinct locations, as a router would ask for them."""
    seen: dict[str, Any] = {}
    for station in emulator.state.network.visible_stations(emulator.tenant_a):
        seen.setdefault(station.location_uid, station)
    return list(seen.values())[:n]


SHAPES = [
    Shape(
        "dashboard-25",
        """{ locations(first: 25) { nodes { id name stations { stationId
        name evses { evseId status currentTransaction { txId powerKw status } } } } } }""",
    ),
    Shape(
        "aliases-and-fragments",
        """fragment E on Station { stationId evses { status } }
        { a: locations(first: 10) { nodes { stations { ...E } } }
          b: locations(first: 10) { nodes { stations { ...E name } } } }""",
    ),
    Shape(
        "inventory-only",
        """{ locations(first: 6) { nodes { stations { stationId model
        firmwareVersion manufacturingInfo { serialNumber } } } } }""",
    ),
    Shape(
        "inventory-and-live",
        """{ locations(first: 4) { nodes { stations { model access
        evses { evseId } } } } }""",
    ),
    Shape(
        "location-primes-lookups",
        """query($id: ID!) { location(id: $id) { stations { evses { station { access }
            location { name } } } } }""",
        lambda e: {"id": _locations(e, 1)[0].uid},
    ),
    Shape(
        "station-by-id",
        "query($id: ID!) { station(id: $id) { name access location { id } } }",
        lambda e: {"id": _stations(e, 1)[0].station_id},
    ),
    Shape(
        "power-per-location",
        "{ locations(first: 30) { nodes { currentPower { currentPowerKw } } } }",
    ),
    Shape("network-summary", "{ networkSummary { stationCount evseCount currentPowerKw } }"),
    Shape("network-power", "{ networkPower { totalPowerKw locations { location { name } } } }"),
    Shape("transactions", "{ transactions(first: 12) { nodes { txId location { name } } } }"),
    Shape(
        "transactions-evse",
        "{ transactions(first: 10) { nodes { evse { evseId } } } }",
        tight=False,
    ),
    Shape(
        "problematic-sessions",
        """{ problematicSessions(first: 8) { nodes { alert
        evse { evseId } location { id } transaction { txId } } } }""",
    ),
    Shape(
        "hardware-errors",
        """{ hardwareErrors(first: 10) { nodes { alert { title }
        station { name } location { id } } } }""",
    ),
    Shape(
        "hardware-errors-filtered",
        """{ hardwareErrors(first: 5,
        filter: {severities: ["critical"]}) { nodes { stationId } } }""",
    ),
    Shape(
        "site-transactions",
        """{ locations(first: 3) { nodes {
        transactions(first: 6) { nodes { txId } } } } }""",
    ),
    Shape(
        "site-errors",
        """{ locations(first: 3) { nodes {
        hardwareErrors(first: 4) { nodes { stationId } } } } }""",
    ),
    Shape(
        "evse-transactions",
        """query($id: ID!) { location(id: $id) { evses {
            transactions(first: 1) { nodes { txId } } } } }""",
        lambda e: {"id": _locations(e, 1)[0].uid},
    ),
    Shape(
        "station-errors",
        """query($id: ID!) { location(id: $id) { stations {
            hardwareErrors(first: 3) { nodes { alert { title } } } } } }""",
        lambda e: {"id": _locations(e, 2)[1].uid},
    ),
    Shape(
        "entities-locations",
        ENTITIES,
        lambda e: {"r": [{"__typename": "Location", "id": loc.uid} for loc in _locations(e, 20)]},
    ),
    Shape(
        "entities-stations",
        ENTITIES,
        lambda e: {
            "r": [{"__typename": "Station", "stationId": s.station_id} for s in _stations(e, 27)]
        },
    ),
    Shape(
        "entities-evses",
        ENTITIES,
        lambda e: {
            "r": [
                {"__typename": "Evse", "stationId": s.station_id, "evseId": "1"}
                for s in _stations(e, 15)
            ]
        },
    ),
    *(Shape(f"readme-{i}", example) for i, example in enumerate(EXAMPLES)),
]


async def _run(gateway: Gateway, emulator: RunningEmulator, shape: Shape) -> tuple[int, int]:
    variables = shape.variables(emulator) if callable(shape.variables) else shape.variables
    emulator.state.reset()
    response = await gateway.http.post(
        f"{gateway.url}/graphql",
        json={"query": shape.query, "variables": variables},
        headers={"Authorization": f"Bearer {emulator.token_a}", "X-Gateway-Cost": "1"},
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    calls = sum(emulator.state.counters.values())
    assert body["extensions"]["cost"]["calls"] == calls  # the budget counts what it spends
    return body["extensions"]["cost"]["estimate"], calls


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
async def test_the_estimate_bounds_the_calls_cold_and_warm(
    gateway: Gateway, emulator: RunningEmulator, shape: Shape
) -> None:
    cold, cold_calls = await _run(gateway, emulator, shape)
    assert cold >= cold_calls, "the estimate must never be below what the request cost"
    warm, calls = await _run(gateway, emulator, shape)
    assert calls > 0
    assert calls <= warm, f"estimate {warm} for {calls} calls"
    if shape.tight:
        assert warm <= 3 * calls, f"estimate {warm} for {calls} calls"
