"""compose.yaml: the emulator, the gateway in front of it, and the federation profile's
router; loopback-only ports, health-gated start-up, and real setting names. The health
check scripts and the router are run for real, on loopback, without Docker."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.emulator import EmulatorConfig
from tests.deploy.files import DEPLOY, ROOT, unknown_variables, yaml_documents
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, bearer, serving

ROUTER = DEPLOY / "router"


def node() -> str:
    path = shutil.which("node")
    assert path, "node is not on PATH: the federation router needs Node 20"
    return path


def compose() -> dict[str, Any]:
    [document] = yaml_documents(ROOT / "compose.yaml")
    return document


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in services()[service].get("environment", {}).items()}


def healthcheck_script(service: str) -> list[str]:
    test = services()[service]["healthcheck"]["test"]
    assert test[0] == "CMD", "exec form: no shell in the image is needed"
    return [str(word) for word in test[1:]]


def test_the_default_services_and_the_federation_profile() -> None:
    found = services()
    assert set(found) == {"emulator", "gateway", "router"}
    # `docker compose up` starts the first two; the router only with --profile federation.
    assert {name: found[name].get("profiles") for name in found} == {
        "emulator": None,
        "gateway": None,
        "router": ["federation"],
    }
    for name in ("emulator", "gateway"):
        assert found[name]["build"] == "."  # the repository's Dockerfile
    assert (ROOT / found["router"]["build"] / "Dockerfile").is_file()


def test_published_ports_are_bound_to_loopback_only() -> None:
    published = {name: service.get("ports", []) for name, service in services().items()}
    assert all(published.values())
    for ports in published.values():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), port


def test_the_gateway_serves_the_emulator_and_starts_once_it_is_healthy() -> None:
    found = services()
    gateway, emulator = found["gateway"], found["emulator"]
    assert gateway["command"][-1] == "serve"
    command = emulator["command"]
    assert command[:4] == ["python", "-m", "gateway", "emulator"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    upstream = urlsplit(environment("gateway")["GATEWAY_UPSTREAM_URL"])
    assert (upstream.hostname, str(upstream.port)) == (
        "emulator",
        command[command.index("--port") + 1],
    )
    assert gateway["depends_on"] == {"emulator": {"condition": "service_healthy"}}
    assert found["router"]["depends_on"] == {"gateway": {"condition": "service_healthy"}}
    port = environment("gateway")["GATEWAY_PORT"]
    assert gateway["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert environment("gateway")["GATEWAY_UPSTREAM_PAGE_SIZE"] == str(EmulatorConfig().page_size)
    # Past the gateway's own drain time, or Docker kills it mid-drain.
    grace = int(gateway["stop_grace_period"].removesuffix("s"))
    assert grace > gateway_settings("http://127.0.0.1").shutdown_timeout_s


def test_the_router_composes_the_gateways_graphql_endpoint() -> None:
    env = environment("router")
    [(name, url)] = [pair.split("=", 1) for pair in env["ROUTER_SUBGRAPHS"].split(",")]
    target = urlsplit(url)
    assert name == "chargeye"
    assert (target.hostname, str(target.port), target.path) == (
        "gateway",
        environment("gateway")["GATEWAY_PORT"],
        "/graphql",
    )
    assert services()["router"]["ports"] == [f"127.0.0.1:{env['ROUTER_PORT']}:{env['ROUTER_PORT']}"]


def test_every_gateway_variable_compose_names_is_a_setting() -> None:
    assert unknown_variables((ROOT / "compose.yaml").read_text()) == set()


async def run_python(argv: list[str], env: dict[str, str] | None = None) -> int:
    assert argv[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv[1:], env=env or {}, stderr=subprocess.DEVNULL
    )
    return await process.wait()


async def test_the_emulators_healthcheck_passes_on_a_live_emulator_and_fails_without(
    emulator: RunningEmulator,
) -> None:
    script = healthcheck_script("emulator")
    assert "http://127.0.0.1:8001" in script[-1]
    live = [*script[:-1], script[-1].replace("http://127.0.0.1:8001", emulator.url)]
    assert await run_python(live) == 0
    gone = [*script[:-1], script[-1].replace("http://127.0.0.1:8001", "http://127.0.0.1:9")]
    assert await run_python(gone) != 0


async def test_the_gateways_healthcheck_asks_readyz_which_needs_the_upstream(
    emulator: RunningEmulator,
) -> None:
    script = healthcheck_script("gateway")
    assert "/readyz" in script[-1]
    async with serving(create_app(gateway_settings(emulator.url))) as base:
        port = str(urlsplit(base).port)
        assert await run_python(script, {"GATEWAY_PORT": port}) == 0
    # No upstream behind it: alive, but not ready, so the router would not start yet.
    async with serving(create_app(gateway_settings("http://127.0.0.1:9"))) as base:
        port = str(urlsplit(base).port)
        assert await run_python(script, {"GATEWAY_PORT": port}) != 0


@pytest.fixture
async def router(emulator: RunningEmulator) -> AsyncIterator[str]:
    """deploy/router/router.mjs composing a live gateway (in front of the emulator)."""
    assert (ROUTER / "node_modules" / "@apollo" / "gateway").is_dir(), (
        "deploy/router/node_modules is missing: run `make test` (it runs npm ci there)"
    )
    async with serving(create_app(gateway_settings(emulator.url))) as base:
        env = {
            **os.environ,
            "ROUTER_SUBGRAPHS": f"chargeye={base}/graphql",
            "ROUTER_HOST": "127.0.0.1",
            "ROUTER_PORT": "0",
        }
        process = await asyncio.create_subprocess_exec(
            node(), "router.mjs", cwd=ROUTER, env=env, stdout=subprocess.PIPE
        )
        try:
            assert process.stdout is not None
            line = (await process.stdout.readline()).decode()
            assert line.startswith("listening "), f"router did not start: {line!r}"
            yield line.split()[1]
        finally:
            process.terminate()
            await process.wait()


async def test_a_federated_query_goes_through_the_router_with_the_callers_token(
    router: str, emulator: RunningEmulator
) -> None:
    query = {"query": "{ locations(first: 2) { nodes { id name } } }"}
    emulator.state.reset()
    async with httpx.AsyncClient() as http:
        answer = (await http.post(router, json=query, headers=bearer(emulator.token_a))).json()
        anonymous = (await http.post(router, json=query)).json()

    rows = emulator.state.network.visible_locations(emulator.tenant_a)[:2]
    assert answer == {
        "data": {"locations": {"nodes": [{"id": r.id, "name": r.name} for r in rows]}}
    }
    assert emulator.state.counters["getLocations"] == 1
    # Without a token the gateway refuses, and the router says which subgraph did.
    assert anonymous["data"] == {"locations": None}
    [error] = anonymous["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["serviceName"] == "chargeye"


async def test_the_routers_healthcheck_passes_on_its_port(router: str) -> None:
    dockerfile = (ROUTER / "Dockerfile").read_text()
    assert 'CMD ["node", "healthcheck.mjs"]' in dockerfile
    port = str(urlsplit(router).port)
    process = await asyncio.create_subprocess_exec(
        node(), "healthcheck.mjs", cwd=ROUTER, env={**os.environ, "ROUTER_PORT": port}
    )
    assert await process.wait() == 0


def test_the_router_lock_matches_its_package_json() -> None:
    package = json.loads((ROUTER / "package.json").read_text())
    lock = json.loads((ROUTER / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    for name, version in package["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
