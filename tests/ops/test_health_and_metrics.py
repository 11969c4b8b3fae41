"""Health, readiness and metrics, over HTTP against the emulator."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.emulator import Fault
from tests.gateway.conftest import Gateway, gateway_settings
from tests.gateway.test_cost_bound import EXAMPLES
from tests.support import RunningEmulator, serving


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_healthz_answers_without_the_upstream() -> None:
    settings = gateway_settings("http://127.0.0.1:9")  # nothing listens there
    async with serving(create_app(settings)) as url, httpx.AsyncClient() as http:
        response = await http.get(f"{url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readiness_follows_the_upstream_down_and_up_again(
    emulator: RunningEmulator,
) -> None:
    from gateway.ops import health

    settings = gateway_settings(emulator.url)
    app = create_app(settings)
    async with serving(app) as url, httpx.AsyncClient() as http:
        ready = await http.get(f"{url}/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "upstream": "reachable", "openCircuits": []}

        # The upstream fails: the probe (no recent success, no cached probe) sees it.
        emulator.state.inject("getLocations", Fault(status=503), times=None)
        readiness = app.state.readiness
        assert isinstance(readiness, health.Readiness)
        readiness._probed_at = None
        app.state.upstream_client._sender.last_success = None
        down = await http.get(f"{url}/readyz")
        assert down.status_code == 503
        assert down.json()["upstream"] == "unreachable"

        emulator.state.reset()  # the upstream is back
        readiness._probed_at = None
        assert (await http.get(f"{url}/readyz")).status_code == 200


async def test_an_open_circuit_makes_the_replica_not_ready(emulator: RunningEmulator) -> None:
    settings = replace(
        gateway_settings(emulator.url),
        upstream_retry_attempts=1,
        upstream_circuit_failure_threshold=2,
        upstream_circuit_open_s=60,
    )
    emulator.state.inject("getNetworkTransactions", Fault(status=500), times=None)
    async with serving(create_app(settings)) as url, httpx.AsyncClient() as http:
        gateway = Gateway(url, http, settings)
        for _ in range(2):
            await gateway.query("{ transactions { nodes { txId } } }", token=emulator.token_a)
        answer = await http.get(f"{url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["openCircuits"] == ["getNetworkTransactions"]


async def test_metrics_move_after_the_readme_queries(emulator: RunningEmulator) -> None:
    settings = gateway_settings(emulator.url)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        gateway = Gateway(url, http, settings)
        before = samples((await http.get(f"{url}/metrics")).text)
        for example in EXAMPLES:
            await gateway.query(example, token=emulator.token_a)
        await gateway.query("{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }")
        response = await http.get(f"{url}/metrics")
    after = samples(response.text)
    assert response.headers["content-type"].startswith("text/plain")

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("gateway_graphql_requests_total", operation="Dashboard", outcome="ok") == 1
    assert moved("gateway_graphql_requests_total", operation="anonymous", outcome="refused") == 1
    assert moved("gateway_documents_rejected_total", limit="aliases") == 1
    assert moved("gateway_upstream_calls_total", operation="getLocations", status="200") >= 1
    assert moved("gateway_upstream_call_duration_seconds_count", operation="getNetworkStatus") >= 1
    assert moved("gateway_graphql_request_duration_seconds_count", operation="Problems") == 1
    assert moved("gateway_loader_batch_size_count") >= 3
    assert after[("gateway_graphql_requests_in_flight", ())] == 0
    # No label anywhere holds a token or a tenant.
    for token in (emulator.token_a, emulator.tenant_a):
        assert token not in response.text


REFUSED = {
    "tokens": "{ " + "__typename " * 6000 + "}",
    "root_fields": "{ "
    + " ".join(f"l{i}: networkSummary {{ locationCount }}" for i in range(21))
    + " }",
    "cost": "{ locations(first: 200) { nodes { stations { evses { transactions(first: 200) "
    "{ nodes { txId } } } } } } }",
}


@pytest.mark.parametrize("limit", sorted(REFUSED))
async def test_a_refused_document_is_counted_under_the_limit_it_broke(
    emulator: RunningEmulator, limit: str
) -> None:
    settings = replace(gateway_settings(emulator.url), max_upstream_cost=50)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        answer = await Gateway(url, http, settings).query(REFUSED[limit], token=emulator.token_a)
        found = samples((await http.get(f"{url}/metrics")).text)
    assert answer["errors"][0]["extensions"]["limit"] == limit
    rejected = {
        k[1][0][1]: v for k, v in found.items() if k[0] == "gateway_documents_rejected_total"
    }
    assert rejected == {limit: 1}


async def test_retries_are_counted(emulator: RunningEmulator) -> None:
    settings = gateway_settings(emulator.url)
    emulator.state.inject("getLocations", Fault(status=503, retry_after=0), times=2)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        gateway = Gateway(url, http, settings)
        body = await gateway.query("{ locations { nodes { id } } }", token=emulator.token_a)
        text = (await http.get(f"{url}/metrics")).text
    assert body["data"]["locations"]["nodes"]
    found = samples(text)
    assert found[("gateway_upstream_retries_total", (("operation", "getLocations"),))] == 2
    assert (
        found[("gateway_upstream_calls_total", (("operation", "getLocations"), ("status", "503")))]
        == 2
    )


async def test_one_request_is_one_log_line_without_secrets(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gateway_settings(emulator.url)
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=30) as http:
        with caplog.at_level(logging.DEBUG):
            first = await http.post(
                f"{url}/graphql",
                json={"query": "query Walk { transactions(first: 3) { pageInfo { endCursor } } }"},
                headers={"Authorization": f"Bearer {emulator.token_a}", "X-Request-Id": "req-42"},
            )
            cursor = first.json()["data"]["transactions"]["pageInfo"]["endCursor"]
            emulator.state.inject("getLocation", Fault(status=503), times=None)
            await http.post(
                f"{url}/graphql",
                json={
                    "query": "query Two($id: ID!, $a: String) { location(id: $id) { id }"
                    " transactions(first: 3, after: $a) { nodes { txId } } }",
                    "variables": {"id": location.uid, "a": cursor},
                },
                headers={"Authorization": f"Bearer {emulator.token_a}"},
            )
    assert first.headers["x-request-id"] == "req-42"
    lines = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert [r.__dict__["operation"] for r in lines] == ["Walk", "Two"]
    walk = lines[0].__dict__
    assert walk["requestId"] == "req-42" and walk["status"] == 200
    assert walk["upstreamCalls"] == 1 and walk["errorCodes"] == []
    assert len(walk["caller"]) == 12
    assert lines[1].__dict__["errorCodes"] == ["UPSTREAM_UNAVAILABLE"]
    # What the process logs: ours and the server's (the HTTP libraries are held at WARNING
    # by `gateway.ops.logs.configure`, tested on its own).
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("gateway", "uvicorn")]
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)
    for secret in (emulator.token_a, location.uid, cursor):
        assert secret not in everything
    # Upstream failures are logged by operation and status, never by URL.
    assert "upstream getLocation failed: status 503" in everything
    assert "/locations/" not in everything


def test_log_configuration_keeps_the_http_libraries_quiet() -> None:
    from gateway.ops import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("debug", "json")
        for name in logs.QUIET_LIBRARIES:
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
        line = logs.JsonLines().format(
            logging.LogRecord("gateway.requests", logging.INFO, "", 0, "hi", (), None)
        )
        assert '"message":"hi"' in line and '"level":"info"' in line
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
