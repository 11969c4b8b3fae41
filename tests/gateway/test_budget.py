"""The runtime backstop: a request stops at its call budget, a walk at its page bound."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from gateway.app import create_app
from tests.gateway.conftest import Gateway, gateway_settings
from tests.support import RunningEmulator, serving


async def query(url: str, text: str, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{url}/graphql", json={"query": text}, headers={"Authorization": f"Bearer {token}"}
        )
    body: dict[str, Any] = response.json()
    return body


async def test_a_request_past_its_call_budget_stops_there(emulator: RunningEmulator) -> None:
    # The estimate takes pages of 5 rows; the upstream sends 1: the walk needs 27 pages.
    emulator.state.page_size = 1
    settings = replace(gateway_settings(emulator.url), max_upstream_calls=3)
    async with serving(create_app(settings)) as url:
        emulator.state.reset()
        body = await query(url, "{ networkSummary { stationCount } }", emulator.token_a)
    assert body["data"] == {"networkSummary": None}
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert emulator.state.counters["getNetworkStatus"] == 3


async def test_the_budget_ends_every_pending_call_of_the_request(
    emulator: RunningEmulator,
) -> None:
    emulator.state.page_size = 1
    settings = replace(gateway_settings(emulator.url), max_upstream_calls=4)
    async with serving(create_app(settings)) as url:
        emulator.state.reset()
        body = await query(
            url,
            "{ networkSummary { stationCount } transactions(first: 8) { nodes { txId } } }",
            emulator.token_a,
        )
    # Four calls spent; the one in flight when the fifth was refused may be cut short.
    assert 3 <= sum(emulator.state.counters.values()) <= 4
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"QUERY_TOO_COMPLEX"}


async def test_a_status_walk_past_its_page_bound_is_refused(emulator: RunningEmulator) -> None:
    emulator.state.page_size = 1
    settings = replace(gateway_settings(emulator.url), max_walk_pages=5)
    async with serving(create_app(settings)) as url:
        emulator.state.reset()
        body = await query(url, "{ networkSummary { stationCount } }", emulator.token_a)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "5 upstream pages" in body["errors"][0]["message"]
    assert emulator.state.counters["getNetworkStatus"] == 5


async def test_within_the_budget_nothing_changes(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    body = await gateway.query("{ networkSummary { stationCount } }", token=emulator.token_a)
    assert body["data"]["networkSummary"]["stationCount"] > 0
