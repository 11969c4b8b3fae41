"""The `/_emulator/...` control endpoints: off unless asked for, and each knob they turn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.emulator import EmulatorConfig
from tests.support import FIXED_NOW, RunningEmulator, SharedServer, bearer, mounted_emulator

ADMIN = [
    ("GET", "/_emulator/counters"),
    ("GET", "/_emulator/requests"),
    ("POST", "/_emulator/reset"),
    ("POST", "/_emulator/reset-data"),
    ("POST", "/_emulator/faults"),
    ("PUT", "/_emulator/latency"),
    ("PUT", "/_emulator/page-size"),
    ("GET", "/_emulator/tokens"),
    ("POST", "/_emulator/tokens/revoke"),
    ("GET", "/_emulator/clock"),
    ("POST", "/_emulator/clock/advance"),
]


@pytest.fixture
def plain(emulator_server: SharedServer) -> Iterator[RunningEmulator]:
    """An emulator with the default configuration: no admin endpoints."""
    with mounted_emulator(emulator_server, EmulatorConfig(now=FIXED_NOW)) as running:
        yield running


async def test_admin_is_off_by_default(plain: RunningEmulator) -> None:
    assert plain.config.admin is False
    async with httpx.AsyncClient(base_url=plain.url) as http:
        for method, path in ADMIN:
            response = await http.request(method, path, json={})
            assert response.status_code == 404, path
            assert response.json() == {"message": "Not Found"}
    assert sum(plain.state.counters.values()) == 0


async def test_counters_reset_and_request_log(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    headers = bearer(emulator.token_a)
    await http.get("/locations", headers=headers)
    await http.get("/locations/networkTransactions?locationUids=a,b", headers=headers)
    await http.get("/stations")
    counts = (await http.get("/_emulator/counters")).json()
    assert counts == {"counts": {"getLocations": 1, "getNetworkTransactions": 1, "listStations": 1}}
    log = (await http.get("/_emulator/requests")).json()["requests"]
    assert [entry["path"] for entry in log] == [
        "/locations",
        "/locations/networkTransactions?locationUids=a,b",
        "/stations",
    ]
    assert emulator.state.requests[1] == (
        "getNetworkTransactions",
        "GET",
        "/locations/networkTransactions?locationUids=a,b",
    )
    assert (await http.post("/_emulator/reset")).json() == {"success": True}
    assert (await http.get("/_emulator/counters")).json() == {"counts": {}}
    assert emulator.state.requests == []


async def test_faults_over_http(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    fault = {
        "operation": "getLocations",
        "kind": "status",
        "status": 503,
        "retryAfter": 2,
        "delayMs": 0,
        "times": 1,
    }
    assert (await http.post("/_emulator/faults", json=fault)).status_code == 200
    headers = bearer(emulator.token_a)
    first = await http.get("/locations", headers=headers)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
    assert (await http.get("/locations", headers=headers)).status_code == 200

    forever = {"operation": "listStations", "kind": "status", "status": 500, "times": None}
    await http.post("/_emulator/faults", json=forever)
    for _ in range(3):
        assert (await http.get("/stations", headers=headers)).status_code == 500


@pytest.mark.parametrize(
    "body",
    [
        {"operation": "getLocationz"},
        {"kind": "status"},
        {"operation": "getLocations", "kind": "explode"},
        {"operation": "getLocations", "status": 200},
        {"operation": "getLocations", "times": 0},
        {"operation": "getLocations", "retryAfter": "soon"},
        {"operation": "getLocations", "delayMs": -1},
        ["getLocations"],
    ],
)
async def test_bad_fault_bodies_are_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator, body: object
) -> None:
    response = await http.post("/_emulator/faults", json=body)
    assert response.status_code == 400 and response.json()["message"]
    assert emulator.state.faults.take("getLocations") is None


async def test_latency_and_page_size_knobs(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    assert (await http.put("/_emulator/latency", json={"ms": 50})).status_code == 200
    assert emulator.state.latency_ms == 50
    assert (await http.put("/_emulator/page-size", json={"size": 3})).status_code == 200
    page = await http.get("/locations/networkStatus", headers=bearer(emulator.token_a))
    assert len(page.json()["locations"]) == 3
    for path, body in (
        ("/_emulator/latency", {"ms": -5}),
        ("/_emulator/latency", {}),
        ("/_emulator/page-size", {"size": 0}),
        ("/_emulator/page-size", {"size": "3"}),
    ):
        assert (await http.put(path, json=body)).status_code == 400, body
    assert (emulator.state.latency_ms, emulator.state.page_size) == (50, 3)


async def test_tokens_and_reset_data(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    tenants = (await http.get("/_emulator/tokens")).json()["tenants"]
    state = emulator.state
    assert [t["id"] for t in tenants] == [t.id for t in state.tenants]
    for tenant in tenants:
        assert set(tenant) == {"id", "name", "roleHint", "accessToken", "refreshToken"}
        assert tenant["accessToken"] == state.access_tokens[tenant["id"]]
        assert tenant["refreshToken"] == state.refresh_tokens[tenant["id"]]
    created = await http.post(
        "/locations", headers=bearer(emulator.token_a), json={"location": {"name": "Temp"}}
    )
    assert state.network.location(created.json()["id"]) is not None
    assert (await http.post("/_emulator/reset-data")).status_code == 200
    assert state.network.location(created.json()["id"]) is None
    assert "reset" not in str(state.requests)  # admin calls are not operations


async def test_a_revoked_token_is_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    headers = bearer(emulator.token_a)
    assert (await http.get("/locations", headers=headers)).status_code == 200
    revoked = await http.post("/_emulator/tokens/revoke", json={"token": emulator.token_a})
    assert revoked.json() == {"success": True}
    assert (await http.get("/locations", headers=headers)).status_code == 401
    assert (await http.get("/locations", headers=bearer(emulator.token_b))).status_code == 200
    again = await http.post("/_emulator/tokens/revoke", json={"token": emulator.token_a})
    assert again.status_code == 404
    assert (await http.post("/_emulator/tokens/revoke", json={})).status_code == 400
