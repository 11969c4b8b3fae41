"""Real GraphQL clients against the gateway: Python `gql` (httpx) and `graphql-request` (Node).

Each sends the bearer token, uses variables and fragments, and reads partial data with
its errors the way application code would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from gateway.emulator.faults import Fault
from gateway.emulator.operations import (
    GET_LOCATION,
    GET_LOCATIONS,
    OPERATION_IDS,
    REFRESH_ACCESS_TOKEN,
)
from tests.http.audit import ROOT, node
from tests.http.conftest import Gateway

SITES = """
query Sites($first: Int!, $id: ID!) {
  locations(first: $first) { nodes { ...Site } }
  location(id: $id) { ...Site }
}
fragment Site on Location { id name city }
"""


def expected(gateway: Gateway, first: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The `nodes` of `locations(first:)` and the first of them as `location(id:)`."""
    emulator = gateway.emulator
    rows = emulator.state.network.visible_locations(emulator.tenant_a)[:first]
    nodes = [{"id": row.id, "name": row.name, "city": row.city} for row in rows]
    return nodes, nodes[0]


PARTIAL = """
query Partial($first: Int!, $id: ID!) {
  locations(first: $first) { nodes { ...Site } }
  location(id: $id) { ...Site stations { stationId } }
}
fragment Site on Location { id name city }
"""


def forbid_all_but_location_reads(gateway: Gateway) -> None:
    # Every upstream operation but the location reads answers 403: the stations of
    # `location` fail, and null it; `locations` still answers.
    state = gateway.emulator.state
    for operation in OPERATION_IDS - {GET_LOCATIONS, GET_LOCATION, REFRESH_ACCESS_TOKEN}:
        state.inject(operation, Fault(kind="status", status=403), times=None)


def nulled(data: Any, path: list[str | int]) -> bool:
    """Whether the error at `path` nulled its field, or an ancestor it propagated to."""
    for key in path:
        if data is None:
            return True
        data = data[key]
    return data is None


def assert_partial(data: Any, errors: list[dict[str, Any]], nodes: list[Any]) -> None:
    # The healthy branch answers in full; the failed one is null, with a FORBIDDEN error
    # pointing into it (how far it propagated depends on the schema's nullability).
    assert data["locations"] == {"nodes": nodes}
    assert errors
    for error in errors:
        assert error["path"][0] == "location"
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert nulled(data, error["path"])


def gql_client(gateway: Gateway) -> Client:
    headers = {"Authorization": f"Bearer {gateway.emulator.token_a}"}
    return Client(transport=HTTPXAsyncTransport(url=gateway.url, headers=headers, timeout=10))


async def test_gql_reads_variables_and_fragments(gateway: Gateway) -> None:
    nodes, first = expected(gateway, 3)
    async with gql_client(gateway) as session:
        data = await session.execute(
            GraphQLRequest(SITES, variable_values={"first": 3, "id": first["id"]})
        )
    assert data == {"locations": {"nodes": nodes}, "location": first}


async def test_gql_reads_partial_data_and_its_errors(gateway: Gateway) -> None:
    nodes, first = expected(gateway, 2)
    forbid_all_but_location_reads(gateway)
    async with gql_client(gateway) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(
                GraphQLRequest(PARTIAL, variable_values={"first": 2, "id": first["id"]})
            )
    assert_partial(caught.value.data, caught.value.errors or [], nodes)


async def graphql_request(url: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `tests/js/client.mjs` (graphql-request) hands application code, per request."""
    process = await asyncio.create_subprocess_exec(
        node(),
        str(ROOT / "tests" / "js" / "client.mjs"),
        url,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(requests).encode()), 30)
    assert process.returncode == 0, err.decode()
    results: list[dict[str, Any]] = json.loads(out)
    return results


async def test_graphql_request_from_node(gateway: Gateway) -> None:
    nodes, first = expected(gateway, 2)
    token = gateway.emulator.token_a
    variables = {"first": 2, "id": first["id"]}
    ok, by_get = await graphql_request(
        gateway.url,
        [
            {"query": SITES, "variables": variables, "token": token},
            {"query": SITES, "variables": variables, "token": token, "method": "GET"},
        ],
    )
    # graphql-request asks for the new media type first, and gets it.
    assert ok["contentType"].startswith("application/graphql-response+json")
    assert ok["data"] == {"locations": {"nodes": nodes}, "location": first}
    assert ok["errors"] is None
    assert by_get["data"] == ok["data"]

    forbid_all_but_location_reads(gateway)
    partial, invalid = await graphql_request(
        gateway.url,
        [
            {"query": PARTIAL, "variables": variables, "token": token},
            {"query": SITES, "variables": {"first": "two", "id": first["id"]}, "token": token},
        ],
    )
    assert (partial["ok"], partial["status"]) == (True, 200)
    assert_partial(partial["data"], partial["errors"], nodes)
    # A request error is a 400 without data; the client raises it with the errors attached.
    assert (invalid["ok"], invalid["status"], invalid["data"]) == (False, 400, None)
    assert invalid["errors"]
