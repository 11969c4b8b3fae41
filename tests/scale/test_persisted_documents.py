"""Persisted documents over real sockets: a hash registered on one replica is found on
the other, over POST and GET, with Apollo Client's own persisted-queries link
(tests/js/apq.mjs) and step by step with raw httpx (no Python client speaks APQ); with a
trusted list, nothing else runs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from gateway.app import create_app
from tests.gateway.conftest import gateway_settings
from tests.scale.conftest import RedisServer
from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer, serving

QUERY = "query Two { locations(first: 2) { nodes { id } } }"  # one upstream call
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
ROOT = Path(__file__).resolve().parents[2]
APQ = {"persistedQuery": {"version": 1, "sha256Hash": HASH}}


def calls(emulator: RunningEmulator) -> int:
    return sum(emulator.state.counters.values())


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer, emulator_server: SharedServer) -> Iterator[list[str]]:
    env = {"GATEWAY_REDIS_URL": redis_server.url, "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix()}
    with replicas(2, emulator_server.url, env) as urls:
        yield urls


async def test_a_hash_registered_on_one_replica_runs_on_the_other_over_get(
    pair: list[str], emulator: RunningEmulator
) -> None:
    a, b = (url + "/graphql" for url in pair)
    headers = bearer(emulator.token_a)
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        # 1. The hash alone, unknown yet: the error Apollo's link waits for, no upstream call.
        missing = (await http.post(a, json={"extensions": APQ})).json()
        assert missing == {
            "errors": [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }
        assert calls(emulator) == 0
        # 2. The link's retry: the text with its hash runs and registers it, on replica A.
        full = (await http.post(a, json={"query": QUERY, "extensions": APQ})).json()
        assert len(full["data"]["locations"]["nodes"]) == 2
        assert calls(emulator) == 1
        # 3. Replica B knows the hash, over GET as `useGETForHashedQueries` sends it.
        params = {"operationName": "Two", "extensions": json.dumps(APQ)}
        hashed = await http.get(b, params=params, headers={"Accept": "application/json"})
        assert hashed.status_code == 200
        assert hashed.json() == full
        assert calls(emulator) == 2


async def test_a_hash_that_is_not_the_texts_is_refused(
    pair: list[str], emulator: RunningEmulator
) -> None:
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    async with httpx.AsyncClient(timeout=30, headers=bearer(emulator.token_a)) as http:
        body = (
            await http.post(pair[0] + "/graphql", json={"query": QUERY, "extensions": wrong})
        ).json()
        assert body["errors"][0]["message"] == "provided sha does not match query"
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        # Nothing was registered under the wrong hash, and nothing ran.
        again = (await http.post(pair[1] + "/graphql", json={"extensions": wrong})).json()
        assert again["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert calls(emulator) == 0


@pytest.fixture
async def trusted(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[str]:
    """A gateway (WebSockets too) that runs only the documents of its manifest."""
    manifest = tmp_path / "manifest.json"
    operations = [{"id": HASH, "body": QUERY, "name": "Two", "type": "query"}]
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    settings = gateway_settings(emulator.url, trusted_documents=str(manifest))
    async with serving(create_app(settings), ws="websockets-sansio") as url:
        yield url + "/graphql"


async def post(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = (await http.post(url, json=body)).json()
    return answer


async def test_trusted_documents_run_by_hash_or_text_and_nothing_else(
    trusted: str, emulator: RunningEmulator
) -> None:
    async with httpx.AsyncClient(timeout=30, headers=bearer(emulator.token_a)) as http:
        by_hash = await post(http, trusted, {"extensions": APQ})
        assert len(by_hash["data"]["locations"]["nodes"]) == 2
        by_text = await post(http, trusted, {"query": QUERY})
        assert by_text == by_hash
        assert calls(emulator) == 2
        other = "{ locations(first: 1) { nodes { id } } }"
        for body in ({"query": other}, {"query": "{ __typename }"}):
            refused = await post(http, trusted, body)
            assert "data" not in refused
            assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        # A hash not on the list is refused too, never registered.
        unknown = {"persistedQuery": {"version": 1, "sha256Hash": "1" * 64}}
        refused = await post(http, trusted, {"query": other, "extensions": unknown})
        assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert calls(emulator) == 2


def test_a_manifest_whose_hash_is_not_its_documents_stops_start_up(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"0" * 64: QUERY}))
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "0"],
        env={**os.environ, "GATEWAY_TRUSTED_DOCUMENTS": str(manifest)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"gateway: GATEWAY_TRUSTED_DOCUMENTS ({manifest}): 0000000000000000… is not its "
        "document's SHA-256"
    ]


def test_apollo_clients_persisted_queries_link_on_two_replicas(
    pair: list[str], emulator: RunningEmulator
) -> None:
    """Apollo Client itself: on A its hash is unknown, so it sends the text; on B the hash
    alone (over GET) is enough, since A registered it in Redis."""
    query = "query Three { locations(first: 3) { nodes { id name } } }"
    result = subprocess.run(
        ["node", "tests/js/apq.mjs", pair[0] + "/graphql", pair[1] + "/graphql", emulator.token_a],
        input=query,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["a"]["requests"] == [
        {"method": "GET", "withText": False},  # PersistedQueryNotFound
        {"method": "POST", "withText": True},  # the link's retry, which registers it
    ]
    assert seen["b"]["requests"] == [{"method": "GET", "withText": False}]
    assert seen["b"]["data"] == seen["a"]["data"]
    assert len(seen["a"]["data"]["locations"]["nodes"]) == 3
    assert calls(emulator) == 2  # one execution on each replica


async def test_trusted_documents_hold_for_subscriptions_over_websocket_and_sse(
    trusted: str, emulator: RunningEmulator
) -> None:
    unlisted = "subscription { networkSummaryChanges { total } }"
    not_listed = {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
    async with websockets.connect(
        "ws" + trusted.removeprefix("http"), subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        init = {"Authorization": f"Bearer {emulator.token_a}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": unlisted}}
        await ws.send(json.dumps(subscribe))
        [error] = json.loads(await ws.recv())["payload"]
        assert error["extensions"] == not_listed
    async with httpx.AsyncClient(timeout=30) as http:
        headers = {**bearer(emulator.token_a), "Accept": "text/event-stream"}
        answer = await http.post(trusted, json={"query": unlisted}, headers=headers)
    [event] = [line for line in answer.text.splitlines() if line.startswith("data: {")]
    assert json.loads(event.removeprefix("data: "))["errors"][0]["extensions"] == not_listed
    assert calls(emulator) == 0
