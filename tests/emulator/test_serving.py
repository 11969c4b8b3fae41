"""The test plumbing itself: `serving` and the shared server start, answer and let go."""

from __future__ import annotations

import socket

import httpx
import pytest

from gateway.emulator import EmulatorConfig
from tests.support import FIXED_NOW, SharedServer, bearer, running_emulator


def refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


async def test_running_emulator_serves_and_frees_its_port() -> None:
    async with running_emulator(EmulatorConfig(now=FIXED_NOW)) as emulator:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            response = await http.get("/locations", headers=bearer(emulator.token_b))
        assert response.status_code == 200
        url = emulator.url
    assert refused(url)


def test_the_shared_server_serves_one_app_at_a_time(emulator_server: SharedServer) -> None:
    with emulator_server.mounted(lambda: None) as url:  # type: ignore[arg-type]
        assert url == emulator_server.url
        with pytest.raises(RuntimeError), emulator_server.mounted(lambda: None):  # type: ignore[arg-type]
            pass
    idle = httpx.get(f"{emulator_server.url}/locations")
    assert idle.status_code == 503


def test_a_shared_server_frees_its_port_when_closed() -> None:
    server = SharedServer()
    url = server.url
    assert httpx.get(f"{url}/").status_code == 503
    server.close()
    assert refused(url)
