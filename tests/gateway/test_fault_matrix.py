"""Every upstream operation meets every kind of fault: the answer keeps the rest of the
data, reports one error per failed upstream call with the fault's code, and retries only
what may be retried (GETs, on 429, 503 and dropped connections), counted at the emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.emulator import Fault
from tests.gateway.conftest import Gateway, gateway_settings
from tests.support import RunningEmulator, serving

ATTEMPTS = 3  # the gateway's retry policy, first attempt included


@dataclass(frozen=True)
class Operation:
    id: str
    query: str
    variables: Callable[[RunningEmulator], dict[str, Any]]
    failed: tuple[str | int, ...]  # the path of the field that fails
    kept: str  # a root field that needs no call of this operation and must survive
    write: bool = False
    calls: Callable[[RunningEmulator], int] = lambda emulator: 1  # its calls, fault-free


def _location(emulator: RunningEmulator) -> Any:
    network = emulator.state.network
    return next(
        loc
        for loc in network.visible_locations(emulator.tenant_a)
        if len(network.stations_at(loc.uid)) >= 2
    )


def _stations_of(emulator: RunningEmulator) -> int:
    return len(emulator.state.network.stations_at(_location(emulator).uid))


KEPT = "kept: __typename"
OPERATIONS = [
    Operation(
        "getLocations",
        "{ x: locations { nodes { id } } " + KEPT + " }",
        lambda e: {},
        ("x",),
        "kept",
    ),
    Operation(
        "getLocation",
        "query($id: ID!) { x: location(id: $id) { id } " + KEPT + " }",
        lambda e: {"id": _location(e).uid},
        ("x",),
        "kept",
    ),
    Operation(
        "getLocationStations",
        "query($id: ID!) { l: location(id: $id) { id x: stations { model } } }",
        lambda e: {"id": _location(e).uid},
        ("l", "x"),
        "l",
    ),
    Operation(
        "getNetworkStatus",
        "query($id: ID!) { l: location(id: $id) { id x: evses { status } } }",
        lambda e: {"id": _location(e).uid},
        ("l", "x"),
        "l",
    ),
    Operation(
        "getCurrentlyUsedPower",
        "{ x: networkPower { totalPowerKw } " + KEPT + " }",
        lambda e: {},
        ("x",),
        "kept",
    ),
    Operation(
        "getNetworkHardwareErrors",
        "{ x: hardwareErrors(first: 3) { nodes { stationId } } " + KEPT + " }",
        lambda e: {},
        ("x",),
        "kept",
    ),
    Operation(
        "getProblematicSessions",
        "{ x: problematicSessions(first: 3) { nodes { alert } } " + KEPT + " }",
        lambda e: {},
        ("x",),
        "kept",
    ),
    Operation(
        "getNetworkTransactions",
        "{ x: transactions(first: 3) { nodes { txId } } " + KEPT + " }",
        lambda e: {},
        ("x",),
        "kept",
    ),
    Operation(
        "listStations",
        "query($id: ID!) { x: station(id: $id) { name } " + KEPT + " }",
        lambda e: {"id": e.state.network.stations_at(_location(e).uid)[0].station_id},
        ("x",),
        "kept",
    ),
    Operation(
        "getTransactions",
        """query($id: ID!) { l: location(id: $id) { id stations { stationId
                 evses { x: transactions(first: 1) { nodes { txId } } } } } }""",
        lambda e: {"id": _location(e).uid},
        ("l", "stations", 0, "evses", 0, "x"),
        "l",
        calls=_stations_of,
    ),
    Operation(
        "postLocation",
        'mutation { x: createLocation(input: {name: "Fault"}) { id } }',
        lambda e: {},
        ("x",),
        "",
        write=True,
    ),
    Operation(
        "patchLocation",
        'mutation($id: ID!) { x: updateLocation(id: $id, input: {name: "F"}) { id } }',
        lambda e: {"id": _location(e).uid},
        ("x",),
        "",
        write=True,
    ),
]


@dataclass(frozen=True)
class Kind:
    name: str
    fault: Fault
    code: str
    retried: bool  # a GET meeting it is tried again


KINDS = [
    Kind("500", Fault(status=500), "UPSTREAM_UNAVAILABLE", retried=False),
    Kind("503-retry-after", Fault(status=503, retry_after=0), "UPSTREAM_UNAVAILABLE", True),
    Kind("429", Fault(status=429), "RATE_LIMITED", retried=True),
    Kind("401", Fault(status=401), "UNAUTHENTICATED", retried=False),
    Kind("404", Fault(status=404), "NOT_FOUND", retried=False),
    Kind("timeout", Fault(kind="delay", delay_ms=1500), "UPSTREAM_TIMEOUT", retried=False),
    Kind("malformed", Fault(kind="malformed"), "UPSTREAM_PROTOCOL_ERROR", retried=False),
    Kind("dropped", Fault(kind="drop"), "UPSTREAM_UNAVAILABLE", retried=True),
    Kind(
        "oversized",
        Fault(kind="huge", size_bytes=300 * 1024 * 1024),
        "UPSTREAM_PROTOCOL_ERROR",
        retried=False,
    ),
]
# Lookups of one row answer null for a row that is not there: that is no error.
NULL_WHEN_MISSING = {"getLocation", "listStations"}


@pytest.fixture(params=["aiohttp", "httpx"])
async def faulty(
    emulator: RunningEmulator, request: pytest.FixtureRequest
) -> AsyncIterator[Gateway]:
    # The breaker stays out of the count here (tests/client/test_breaker.py and the test
    # below prove it); four stations' retries would otherwise open it mid-request.
    settings = replace(
        gateway_settings(emulator.url),
        upstream_timeout_s=0.5,
        upstream_circuit_failure_threshold=0,
        upstream_transport=request.param,
    )
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        yield Gateway(url, http, settings)


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.id)
async def test_a_fault_is_one_coded_error_per_failed_call(
    faulty: Gateway, emulator: RunningEmulator, operation: Operation, kind: Kind
) -> None:
    variables = operation.variables(emulator)
    calls = operation.calls(emulator)
    emulator.state.reset()
    emulator.state.inject(operation.id, kind.fault, times=None)
    body = await faulty.query(operation.query, variables, token=emulator.token_a)

    assert _at(body["data"], operation.failed) is None
    if operation.kept:
        assert body["data"][operation.kept] is not None
    attempts = ATTEMPTS if kind.retried and not operation.write else 1
    assert emulator.state.counters[operation.id] == calls * attempts
    if kind.name == "404" and operation.id in NULL_WHEN_MISSING:
        assert "errors" not in body
        return
    errors = body["errors"]
    assert {error["extensions"]["code"] for error in errors} == {kind.code}
    # One error per failed call (the calls of one batch fold into one error).
    assert len(errors) == calls
    for error in errors:
        assert emulator.token_a not in error["message"]


async def test_an_open_circuit_fails_fast_without_calling_the_upstream(
    emulator: RunningEmulator,
) -> None:
    settings = replace(
        gateway_settings(emulator.url),
        upstream_retry_attempts=1,
        upstream_circuit_failure_threshold=3,
        upstream_circuit_open_s=60,
    )
    query = "{ transactions(first: 2) { nodes { txId } } }"
    emulator.state.inject("getNetworkTransactions", Fault(status=500), times=None)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        gateway = Gateway(url, http, settings)
        for _ in range(3):
            await gateway.query(query, token=emulator.token_a)
        assert emulator.state.counters["getNetworkTransactions"] == 3
        emulator.state.reset()  # the upstream is healthy again, but the circuit is open
        body = await gateway.query(query, token=emulator.token_a)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "circuit" in body["errors"][0]["message"]
    assert emulator.state.counters["getNetworkTransactions"] == 0
