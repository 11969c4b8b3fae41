"""Bearer auth: missing, malformed, unknown and expired tokens answer 401; a refresh token
buys an access token that works everywhere until it expires, and is refused elsewhere."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from gateway.emulator import EmulatorConfig
from tests.support import FIXED_NOW, RunningEmulator, SharedServer, bearer, mounted_emulator

ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
DATA_PATHS = (
    "/locations",
    "/locations/networkStatus",
    "/locations/currentlyUsedPower",
    "/locations/networkHardwareErrors",
    "/locations/problematicSessions",
    "/locations/networkTransactions",
    "/stations",
)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    x"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token-we-minted"},
        {"Authorization": "Token abc"},
    ],
)
async def test_bad_credentials_answer_401(
    http: httpx.AsyncClient, emulator: RunningEmulator, headers: dict[str, str]
) -> None:
    response = await http.get("/locations", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"message"}
    assert emulator.state.counters["getLocations"] == 1  # refused calls are counted too


async def test_the_scheme_is_case_insensitive(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    response = await http.get("/locations", headers={"Authorization": f"bearer {emulator.token_a}"})
    assert response.status_code == 200


async def test_refresh_buys_a_token_that_works_everywhere(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    refresh = emulator.state.refresh_tokens[emulator.tenant_b]
    before = time.time()
    response = await http.get("/auth/refreshAccessToken", headers=bearer(refresh))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "validUntil"} and ISO_MS.fullmatch(body["validUntil"])
    valid_until = datetime.fromisoformat(body["validUntil"]).timestamp()
    assert before + 8 * 3600 - 1 <= valid_until <= time.time() + 8 * 3600
    for path in DATA_PATHS:
        assert (await http.get(path, headers=bearer(body["token"]))).status_code == 200, path
    listed = (await http.get("/locations", headers=bearer(body["token"]))).json()
    expected = emulator.state.network.visible_locations(emulator.tenant_b)
    assert [row["id"] for row in listed["locations"]] == [loc.uid for loc in expected]
    assert emulator.state.counters["refreshAccessToken"] == 1


async def test_refreshing_again_gives_a_new_token(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    refresh = bearer(emulator.state.refresh_tokens[emulator.tenant_a])
    first = (await http.get("/auth/refreshAccessToken", headers=refresh)).json()
    second = (await http.get("/auth/refreshAccessToken", headers=refresh)).json()
    assert first["token"] != second["token"]
    for body in (first, second):
        assert (await http.get("/locations", headers=bearer(body["token"]))).status_code == 200


async def test_tokens_are_only_accepted_where_they_belong(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    refresh = bearer(emulator.state.refresh_tokens[emulator.tenant_a])
    for path in DATA_PATHS:
        assert (await http.get(path, headers=refresh)).status_code == 401, path
    exchanged = await http.get("/auth/refreshAccessToken", headers=bearer(emulator.token_a))
    unknown = await http.get("/auth/refreshAccessToken", headers=bearer("rt-made-up"))
    assert exchanged.status_code == unknown.status_code == 401


@pytest.fixture
def short_lived(emulator_server: SharedServer) -> Iterator[RunningEmulator]:
    """An emulator whose minted tokens live one second."""
    config = EmulatorConfig(seed=7, now=FIXED_NOW, token_ttl_s=1.0)
    with mounted_emulator(emulator_server, config) as running:
        yield running


async def test_a_minted_token_expires_after_its_ttl(short_lived: RunningEmulator) -> None:
    state = short_lived.state
    start = time.time()
    state.clock = lambda: start
    refresh = bearer(state.refresh_tokens[short_lived.tenant_a])
    async with httpx.AsyncClient(base_url=short_lived.url) as http:
        body = (await http.get("/auth/refreshAccessToken", headers=refresh)).json()
        valid_until = datetime.fromisoformat(body["validUntil"]).timestamp()
        assert valid_until == pytest.approx(start + 1, abs=0.002)
        token = bearer(body["token"])
        assert (await http.get("/locations", headers=token)).status_code == 200

        state.clock = lambda: valid_until  # expiry is exclusive: at validUntil it is over
        expired = await http.get("/locations", headers=token)
        assert expired.status_code == 401 and expired.json() == {"message": "Token expired"}

        renewed = (await http.get("/auth/refreshAccessToken", headers=refresh)).json()
        assert (await http.get("/locations", headers=bearer(renewed["token"]))).status_code == 200
        # The demo tokens are unaffected by the short ttl: they live 30 days.
        demo = await http.get("/locations", headers=bearer(short_lived.token_a))
        assert demo.status_code == 200


async def test_demo_tokens_live_thirty_days(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    now = time.time()
    emulator.state.clock = lambda: now + 29 * 24 * 3600
    assert (await http.get("/locations", headers=bearer(emulator.token_a))).status_code == 200
    emulator.state.clock = lambda: now + 31 * 24 * 3600
    assert (await http.get("/locations", headers=bearer(emulator.token_a))).status_code == 401


def test_each_tenant_has_its_own_tokens(emulator: RunningEmulator) -> None:
    state = emulator.state
    assert len(state.tenants) >= 3
    assert set(state.access_tokens) == set(state.refresh_tokens) == {t.id for t in state.tenants}
    assert len(set(state.access_tokens.values())) == len(state.tenants)
    assert datetime.now(UTC) > FIXED_NOW  # the data's anchor is not the token clock
