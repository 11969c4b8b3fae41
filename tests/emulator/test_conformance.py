"""Every operation's answers, good and bad, validated by openapi-core against the contracts
(locations-openapi.yaml and stations-openapi.yaml), closed to fields they do not name.

The `http` client validates each answer as it arrives; these tests make sure every
operation, status and page shape actually passes through it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.emulator import OPERATION_IDS, Fault
from tests.support import RunningEmulator, bearer

# operationId -> (method, path template); {uid} is a location visible to tenant A.
OPERATIONS: dict[str, tuple[str, str]] = {
    "refreshAccessToken": ("GET", "/auth/refreshAccessToken"),
    "getLocations": ("GET", "/locations"),
    "postLocation": ("POST", "/locations"),
    "getLocation": ("GET", "/locations/{uid}"),
    "patchLocation": ("PATCH", "/locations/{uid}"),
    "getLocationStations": ("GET", "/locations/{uid}/stations"),
    "getNetworkStatus": ("GET", "/locations/networkStatus"),
    "getCurrentlyUsedPower": ("GET", "/locations/currentlyUsedPower"),
    "getNetworkHardwareErrors": ("GET", "/locations/networkHardwareErrors"),
    "getProblematicSessions": ("GET", "/locations/problematicSessions"),
    "getNetworkTransactions": ("GET", "/locations/networkTransactions"),
    "listStations": ("GET", "/stations"),
    "getTransactions": ("GET", "/chargingStations/{station}/transactions"),
    "getTransaction": ("GET", "/transactions/{tx}"),
}
BODIES: dict[str, Any] = {
    "postLocation": {"location": {"name": "Conformance Depot", "postalCode": "00100"}},
    "patchLocation": {"location": {"name": "Renamed"}},
}
PAGED = {
    "getNetworkStatus": "locations",
    "getNetworkHardwareErrors": "errors",
    "getProblematicSessions": "sessions",
    "getNetworkTransactions": "transactions",
}


def test_the_table_names_every_operation() -> None:
    assert set(OPERATIONS) == OPERATION_IDS


async def call(
    http: httpx.AsyncClient,
    emulator: RunningEmulator,
    operation_id: str,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> httpx.Response:
    method, template = OPERATIONS[operation_id]
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    tx = emulator.state.network.visible_transactions(emulator.tenant_a)[0]
    if headers is None:
        token = (
            emulator.state.refresh_tokens[emulator.tenant_a]
            if operation_id == "refreshAccessToken"
            else emulator.token_a
        )
        headers = bearer(token)
    return await http.request(
        method,
        template.format(uid=uid, station=tx.station_id, tx=tx.tx_id),
        headers=headers,
        params=params,
        json=BODIES.get(operation_id),
    )


async def test_every_operation_answers_200_per_contract(
    http: httpx.AsyncClient, emulator: RunningEmulator, checked: list[tuple[str, str, int]]
) -> None:
    for operation_id in OPERATIONS:
        response = await call(http, emulator, operation_id)
        assert response.status_code == 200, (operation_id, response.text)
    assert dict(emulator.state.counters) == dict.fromkeys(OPERATIONS, 1)
    assert len([c for c in checked if c[2] == 200]) == len(OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
async def test_every_operation_answers_401_per_contract(
    http: httpx.AsyncClient, emulator: RunningEmulator, operation_id: str
) -> None:
    response = await call(http, emulator, operation_id, headers={})
    assert response.status_code == 401
    assert response.json()["message"]


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_injected_statuses_answer_per_contract(
    http: httpx.AsyncClient, emulator: RunningEmulator, status: int
) -> None:
    # The contract lists only 200 and 401 for the token exchange.
    for operation_id in set(OPERATIONS) - {"refreshAccessToken"}:
        emulator.state.inject(operation_id, Fault(kind="status", status=status, retry_after=3))
        response = await call(http, emulator, operation_id)
        assert response.status_code == status
        assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize("tenant", ["a", "b", "c"])
async def test_every_page_of_the_network_views_conforms(
    http: httpx.AsyncClient,
    emulator: RunningEmulator,
    tenant: str,
    checked: list[tuple[str, str, int]],
) -> None:
    token = getattr(emulator, f"token_{tenant}")
    emulator.state.page_size = 200  # a few pages each, without a thousand requests
    # Sessions and transactions run to hundreds and thousands: windows keep the walk short.
    window = {
        "getProblematicSessions": {"startDate": "2025-05-26"},
        "getNetworkTransactions": {"startDate": "2025-06-01"},
    }
    for operation_id, key in PAGED.items():
        pages, cursor = 0, None
        while True:
            params = dict(window.get(operation_id, {}))
            if cursor:
                params["paginationToken"] = cursor
            response = await call(http, emulator, operation_id, bearer(token), **params)
            assert response.status_code == 200
            pages += 1
            cursor = response.json().get("paginationToken")
            if not cursor:
                break
        assert pages >= 1, key
    assert all(status == 200 for *_, status in checked)


async def test_small_pages_and_filters_conform(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    uids = [loc.uid for loc in network.visible_locations(emulator.tenant_a)[:3]]
    station = network.stations_at(uids[0])[0]
    queries: list[tuple[str, dict[str, Any]]] = [
        ("getNetworkStatus", {"locationUids": uids}),
        ("getCurrentlyUsedPower", {"locationUids": ",".join(uids)}),
        ("getNetworkHardwareErrors", {"locationUids": uids}),
        ("getProblematicSessions", {"startDate": "2025-05-20", "endDate": "2025-05-27"}),
        (
            "getNetworkTransactions",
            {
                "locationUids": uids[0],
                "startDate": "2025-05-30T00:00:00.000Z",
                "technicalFailClassification": "OK,HANDSHAKE_FAIL",
            },
        ),
        ("listStations", {"locationUid": uids[0]}),
        ("listStations", {"stationIds": [station.station_id, "no-such-station"]}),
    ]
    for operation_id, params in queries:
        response = await call(http, emulator, operation_id, **params)
        assert response.status_code == 200, (operation_id, response.text)


async def test_client_errors_conform(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    headers = bearer(emulator.token_a)
    bad = [
        await call(http, emulator, "getNetworkTransactions", paginationToken="garbage"),
        await call(http, emulator, "getProblematicSessions", startDate="yesterday"),
        await call(http, emulator, "getNetworkStatus", pageSize="10"),
        await call(http, emulator, "getNetworkTransactions", technicalFailClassification="MEH"),
        await http.post("/locations", headers=headers, json=[1, 2]),
        await http.post("/locations", headers=headers, json={"location": {"lat": "60.1"}}),
    ]
    assert [r.status_code for r in bad] == [400] * len(bad)
    missing = [
        await http.get("/locations/no-such-uid", headers=headers),
        await http.patch("/locations/no-such-uid", headers=headers, json={"location": {}}),
        await http.get("/locations/no-such-uid/stations", headers=headers),
    ]
    assert [r.status_code for r in missing] == [404] * len(missing)
