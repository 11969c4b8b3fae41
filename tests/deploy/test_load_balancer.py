"""deploy/nginx/nginx.conf, run for real: Debian's nginx with the repository's file (only
its upstream addresses, listen port and /tmp rewritten to loopback ones) in front of two
real gateway processes sharing a real Redis, as compose's `scale` profile runs them.

Requests alternate between the replicas (counted at each one's own /metrics), the
caller's token reaches them, a cursor from one is read on the other, and subscriptions
pass through: graphql-transport-ws over a WebSocket upgrade, and graphql-sse.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.typing import Subprotocol

from tests.deploy.files import DEPLOY
from tests.deploy.test_compose import REPLICAS, raw_environment
from tests.live.oracle import evse_states
from tests.scale.conftest import RedisServer, redis_server
from tests.scale.redis_process import free_port
from tests.scale.replicas import replicas, wait_until_healthy
from tests.support import RunningEmulator, SharedServer, bearer

__all__ = ["redis_server"]  # a fixture of tests/scale, used here too

NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"
WAIT_S = 20.0  # a bound for a hung test, never a measure of speed
SUMMARY = "subscription { networkSummaryChanges { evseCount } }"
PAGE = """query Page($after: String) {
  locations(first: 5, after: $after) { nodes { id } pageInfo { endCursor } }
}"""


def nginx() -> str:
    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    assert path, "nginx is not installed: `make test` installs Debian's nginx-light as root"
    return path


def loopback_conf(replica_urls: list[str], port: int, workdir: Path) -> str:
    """The repository's nginx.conf with compose's names swapped for loopback addresses."""
    conf = NGINX_CONF.read_text()
    swaps = {
        f"{name}:{raw_environment(name)['GATEWAY_PORT']}": url.removeprefix("http://")
        for name, url in zip(REPLICAS, replica_urls, strict=True)
    }
    swaps["listen 8080;"] = f"listen 127.0.0.1:{port};"
    for old, new in swaps.items():
        assert conf.count(old) == 1, old  # the file still looks as this rewrite expects
        conf = conf.replace(old, new)
    return conf.replace("/tmp/", f"{workdir}/")


@dataclass(frozen=True)
class Stack:
    url: str  # the balancer
    replicas: list[str]


@pytest.fixture(scope="module")
def stack(emulator_server: SharedServer, redis_server: RedisServer) -> Iterator[Stack]:
    # The replicas' settings from compose.yaml, pointed at this run's Redis and emulator;
    # one worker each (the multiprocess metrics directory would be shared here).
    env = {k: v for k, v in raw_environment("gateway-a").items() if v is not None}
    for local in ("GATEWAY_UPSTREAM_URL", "GATEWAY_PORT", "GATEWAY_WORKERS"):
        del env[local]
    del env["GATEWAY_METRICS_MULTIPROCESS_DIR"]
    env |= {
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix(),
    }
    with (
        replicas(2, emulator_server.url, env) as urls,
        tempfile.TemporaryDirectory() as workdir,
    ):
        Path(workdir).chmod(0o755)  # nginx's workers (nobody, under root) use its temp dirs
        port = free_port()
        conf = Path(workdir) / "nginx.conf"
        conf.write_text(loopback_conf(urls, port, Path(workdir)))
        command = [nginx(), "-p", workdir, "-c", str(conf), "-g", "daemon off;"]
        check = subprocess.run([*command[:5], "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        log = Path(workdir) / "error.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(command, stderr=stderr)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, process, route="/lb-healthz", why_exited=log.read_text)
            yield Stack(url, urls)
        finally:
            process.terminate()  # this PID only: it is ours
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def graphql_requests(replica: str) -> float:
    """GraphQL requests this replica has answered, from its own /metrics."""
    text = httpx.get(replica + "/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "gateway_graphql_requests"
        for sample in family.samples
        if sample.name == "gateway_graphql_requests_total"
    )


def test_the_balancer_answers_its_own_health_route(stack: Stack) -> None:
    response = httpx.get(stack.url + "/lb-healthz")
    assert (response.status_code, response.text) == (200, "ok\n")


def test_requests_alternate_between_the_replicas_with_the_callers_token(
    stack: Stack, emulator: RunningEmulator
) -> None:
    before = [graphql_requests(replica) for replica in stack.replicas]
    query = {"query": "{ locations(first: 2) { nodes { id } } }"}
    with httpx.Client(timeout=30) as http:
        answers = [
            http.post(stack.url + "/graphql", json=query, headers=bearer(emulator.token_a))
            for _ in range(6)
        ]
        anonymous = http.post(stack.url + "/graphql", json=query).json()
    rows = emulator.state.network.visible_locations(emulator.tenant_a)[:2]
    expected = {"data": {"locations": {"nodes": [{"id": row.id} for row in rows]}}}
    assert [answer.json() for answer in answers] == [expected] * 6
    # Counted against the shared budget: the rate-limit headers come through nginx.
    assert all("ratelimit-remaining" in answer.headers for answer in answers)
    after = [graphql_requests(replica) for replica in stack.replicas]
    # Round robin: three each (plus the anonymous one on either).
    served = [a - b for a, b in zip(after, before, strict=True)]
    assert sorted(served) == [3, 4]
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_cursor_from_one_replica_reads_the_next_page_on_the_other(
    stack: Stack, emulator: RunningEmulator
) -> None:
    with httpx.Client(timeout=30, headers=bearer(emulator.token_a)) as http:

        def page(after: str | None) -> dict[str, Any]:
            body = {"query": PAGE, "variables": {"after": after}}
            answer = http.post(stack.url + "/graphql", json=body).json()
            assert "errors" not in answer, answer
            found: dict[str, Any] = answer["data"]["locations"]
            return found

        before = [graphql_requests(replica) for replica in stack.replicas]
        first = page(None)
        second = page(first["pageInfo"]["endCursor"])
        after = [graphql_requests(replica) for replica in stack.replicas]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]  # one on each
    visible = [row.id for row in emulator.state.network.visible_locations(emulator.tenant_a)]
    assert [node["id"] for node in second["nodes"]] == visible[5:10]


async def test_a_websocket_subscription_goes_through_the_balancer(
    stack: Stack, emulator: RunningEmulator
) -> None:
    ws_url = stack.url.replace("http://", "ws://") + "/graphql"
    protocol = Subprotocol("graphql-transport-ws")

    async def first_event() -> dict[str, object]:
        async with websockets.connect(ws_url, subprotocols=[protocol]) as ws:
            assert ws.subprotocol == protocol
            init = {"Authorization": f"Bearer {emulator.token_a}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUMMARY}}
            await ws.send(json.dumps(subscribe))
            message: dict[str, object] = json.loads(await ws.recv())
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            return message

    message = await asyncio.wait_for(first_event(), WAIT_S)
    count = len(evse_states(emulator, emulator.tenant_a))
    assert message == {
        "id": "1",
        "type": "next",
        "payload": {"data": {"networkSummaryChanges": {"evseCount": count}}},
    }


async def test_an_sse_subscription_streams_through_the_balancer(
    stack: Stack, emulator: RunningEmulator
) -> None:
    # The first event arrives while the stream stays open. (Not a proof that nginx does
    # not buffer: Strawberry's streams say `X-Accel-Buffering: no` themselves, and nginx
    # 1.22 passed this first event on even with buffering on and that header ignored.)
    headers = {**bearer(emulator.token_a), "Accept": "text/event-stream"}

    async def first_event() -> dict[str, object]:
        async with (
            httpx.AsyncClient(timeout=WAIT_S) as http,
            http.stream(
                "POST", stack.url + "/graphql", json={"query": SUMMARY}, headers=headers
            ) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    event: dict[str, object] = json.loads(line.removeprefix("data: "))
                    return event
        raise AssertionError("the stream ended without an event")

    event = await asyncio.wait_for(first_event(), WAIT_S)
    count = len(evse_states(emulator, emulator.tenant_a))
    assert event == {"data": {"networkSummaryChanges": {"evseCount": count}}}
