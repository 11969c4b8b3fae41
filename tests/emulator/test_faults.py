"""Injected faults (status, delay, malformed, drop, huge), their order and lifetimes, and the
latency knob; every request is counted, whatever happens to it."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from gateway.emulator import Fault
from tests.support import RunningEmulator, bearer


async def test_a_status_fault_answers_once_with_retry_after(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(kind="status", status=429, retry_after=7))
    headers = bearer(emulator.token_a)
    faulted = await http.get("/locations", headers=headers)
    assert faulted.status_code == 429
    assert faulted.headers["Retry-After"] == "7"
    assert faulted.json() == {"message": "Too Many Requests"}
    assert (await http.get("/locations", headers=headers)).status_code == 200
    assert emulator.state.counters["getLocations"] == 2


async def test_without_retry_after_there_is_no_header(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getNetworkStatus", Fault(kind="status", status=502))
    response = await http.get("/locations/networkStatus", headers=bearer(emulator.token_a))
    assert response.status_code == 502 and "Retry-After" not in response.headers


async def test_any_error_status_can_be_injected(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(status=599))
    response = await http.get("/locations", headers=bearer(emulator.token_a))
    assert (response.status_code, response.json()) == (599, {"message": "Error 599"})


async def test_faults_are_served_in_order_and_counted_down(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    state = emulator.state
    state.inject("getLocation", Fault(status=503), times=2)
    state.inject("getLocation", Fault(status=500))
    uid = state.network.visible_locations(emulator.tenant_a)[0].uid
    statuses = [
        (await http.get(f"/locations/{uid}", headers=bearer(emulator.token_a))).status_code
        for _ in range(4)
    ]
    assert statuses == [503, 503, 500, 200]
    assert state.counters["getLocation"] == 4


async def test_a_fault_for_ever_lasts_until_reset(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("listStations", Fault(status=503), times=None)
    headers = bearer(emulator.token_a)
    for _ in range(5):
        assert (await http.get("/stations", headers=headers)).status_code == 503
    assert (await http.get("/locations", headers=headers)).status_code == 200  # per operation
    emulator.state.reset()
    assert (await http.get("/stations", headers=headers)).status_code == 200
    assert emulator.state.counters == {"listStations": 1}


async def test_a_fault_comes_before_auth(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(status=503))
    assert (await http.get("/locations")).status_code == 503
    assert (await http.get("/locations")).status_code == 401
    assert emulator.state.counters["getLocations"] == 2


async def test_a_delay_fault_answers_late_but_normally(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(kind="delay", delay_ms=150))
    started = time.monotonic()
    response = await http.get("/locations", headers=bearer(emulator.token_a))
    assert time.monotonic() - started >= 0.15
    assert response.status_code == 200 and response.json()["locations"]


async def test_a_delay_fault_trips_a_client_timeout(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getCurrentlyUsedPower", Fault(kind="delay", delay_ms=250))
    with pytest.raises(httpx.ReadTimeout):
        await raw.get(
            "/locations/currentlyUsedPower", headers=bearer(emulator.token_a), timeout=0.05
        )
    assert emulator.state.counters["getCurrentlyUsedPower"] == 1


async def test_a_malformed_answer_is_not_json(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getNetworkTransactions", Fault(kind="malformed"))
    response = await raw.get("/locations/networkTransactions", headers=bearer(emulator.token_a))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_a_drop_closes_the_connection_without_an_answer(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("postLocation", Fault(kind="drop"))
    headers = bearer(emulator.token_a)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await raw.post("/locations", headers=headers, json={"location": {"name": "Lost"}})
    assert emulator.state.counters["postLocation"] == 1
    assert len(emulator.state.network.locations) == 30  # nothing was created
    again = await raw.post("/locations", headers=headers, json={"location": {"name": "Kept"}})
    assert again.status_code == 200


async def test_latency_delays_answers_without_serialising_them(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.latency_ms = 150
    headers = bearer(emulator.token_a)
    arrived_before_first_answer: list[int] = []

    async def ask() -> httpx.Response:
        answer = await http.get("/locations/currentlyUsedPower", headers=headers)
        if not arrived_before_first_answer:
            arrived_before_first_answer.append(emulator.state.counters["getCurrentlyUsedPower"])
        return answer

    answers = await asyncio.gather(*(ask() for _ in range(4)))
    assert all(answer.status_code == 200 for answer in answers)
    # Every request had arrived before the first one was answered: they waited together.
    assert arrived_before_first_answer == [4]


async def test_a_huge_fault_streams_exactly_its_size_of_valid_json_chunked(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    size = 3 * 1024 * 1024 + 7
    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=size))
    response = await raw.get("/locations", headers=bearer(emulator.token_a))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    assert len(response.content) == size
    rows = json.loads(response.content)["locations"]
    assert len(rows) > 1000 and all(set(row) == {"id", "name"} for row in rows)
    [meter] = emulator.state.faults.huge_bodies
    assert (meter.operation_id, meter.sent_bytes) == ("getLocations", size)
    assert meter.finished.is_set()
    assert emulator.state.counters["getLocations"] == 1


async def test_a_huge_fault_can_declare_its_length(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getNetworkStatus", Fault(kind="huge", size_bytes=100, chunked=False))
    response = await raw.get("/locations/networkStatus", headers=bearer(emulator.token_a))
    assert response.headers["content-length"] == "100"
    assert "transfer-encoding" not in response.headers
    assert len(response.content) == 100 and json.loads(response.content)["locations"]


@pytest.mark.parametrize("chunked", [True, False])
async def test_a_huge_body_is_generated_only_as_fast_as_it_is_read(
    raw: httpx.AsyncClient, emulator: RunningEmulator, chunked: bool
) -> None:
    size = 300 * 1024 * 1024
    emulator.state.inject("getLocations", Fault(kind="huge", size_bytes=size, chunked=chunked))
    async with raw.stream("GET", "/locations", headers=bearer(emulator.token_a)) as response:
        async for chunk in response.aiter_raw():
            assert chunk.startswith(b'{"locations": [{"id": "huge-')
            break  # leaving the block closes the connection with the body unread
    [meter] = emulator.state.faults.huge_bodies
    # Generation ends either way, stopped by the disconnect or having sent it all.
    await asyncio.to_thread(meter.finished.wait)
    # Only what socket buffers held: had it been built whole, or not stopped, it would
    # have reached `size`.
    assert meter.sent_bytes < size // 20


async def test_the_admin_endpoint_injects_a_huge_fault(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    added = await raw.post("/_emulator/faults", json={"operation": "getLocation", "kind": "huge"})
    assert added.json() == {"success": True}
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    headers = bearer(emulator.token_a)
    async with raw.stream("GET", f"/locations/{uid}", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"  # the default
    [meter] = emulator.state.faults.huge_bodies
    assert meter.size_bytes == Fault().size_bytes == 64 * 1024 * 1024


def test_bad_faults_are_refused(emulator: RunningEmulator) -> None:
    with pytest.raises(ValueError, match="operationId"):
        emulator.state.inject("getLocationz", Fault())
    with pytest.raises(ValueError):
        emulator.state.inject("getLocations", Fault(), times=0)
    with pytest.raises(ValueError):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Fault(status=200)
    with pytest.raises(ValueError, match="size_bytes"):
        Fault(kind="huge", size_bytes=16)  # too small for `{"locations": []}`
