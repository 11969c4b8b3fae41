"""Property tests: whatever a client sends, the gateway answers without crashing, and the
estimate it reports is never below the upstream calls the request made.

Documents are drawn over the schema itself (fields, arguments, aliases, fragments), so a
new field is exercised without a new test.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import uvicorn
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    parse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.cursors import CursorCodec
from gateway.errors import BadUserInput
from gateway.loaders.limits import Limits
from gateway.loaders.shape import NetworkShape
from gateway.schema.analysis import DocumentShape, Estimate
from gateway.schema.build import build_schema
from tests.gateway.conftest import gateway_settings
from tests.support import (
    DEFAULT_EMULATOR,
    SharedServer,
    loopback_socket,
    mounted_emulator,
    serving,
)

FEW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@cache
def schema() -> GraphQLSchema:
    return build_schema().graphql_schema


def _value(argument_type: Any, draw: Any, ids: list[str]) -> str | None:
    """A literal for an argument, or None to leave it out."""
    named = get_named_type(argument_type)
    required = isinstance(argument_type, GraphQLNonNull)
    if not required and not draw(st.booleans()):
        return None
    if named.name == "Int":
        return str(draw(st.integers(min_value=0, max_value=12)))
    if named.name == "ID":
        inner = argument_type.of_type if required else argument_type
        literal = '"' + draw(st.sampled_from(ids)) + '"'
        return f"[{literal}]" if isinstance(inner, GraphQLList) else literal
    if named.name == "Boolean":
        return draw(st.sampled_from(["true", "false"]))
    return None  # filters, enums, strings: left out (their defaults apply)


def _selection(draw: Any, parent: GraphQLObjectType, depth: int, ids: list[str]) -> str:
    names = sorted(name for name in parent.fields if not name.startswith("_"))
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    parts = []
    for index, name in enumerate(chosen):
        field: GraphQLField = parent.fields[name]
        arguments = []
        for arg_name, argument in field.args.items():
            literal = _value(argument.type, draw, ids)
            if literal is not None:
                arguments.append(f"{arg_name}: {literal}")
        named = get_named_type(field.type)
        head = (f"a{index}: " if draw(st.booleans()) else "") + name
        if arguments:
            head += "(" + ", ".join(arguments) + ")"
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            if depth <= 0 or not isinstance(named, GraphQLObjectType):
                parts.append(f"{head} {{ __typename }}")
            else:
                parts.append(f"{head} {{ {_selection(draw, named, depth - 1, ids)} }}")
        else:
            parts.append(head)
    return " ".join(parts)


@st.composite
def documents(draw: Any, ids: list[str]) -> str:
    root = schema().query_type
    assert root is not None
    body = _selection(draw, root, draw(st.integers(min_value=1, max_value=4)), ids)
    if draw(st.booleans()):  # the same selection once more, through a fragment
        return f"query {{ ...Q }}\nfragment Q on Query {{ {body} }}"
    return f"query {{ {body} }}"


IDS = ["no-such-id", "../x", "FI-HEL-0001", "1"]


@given(documents(IDS))
@FEW
def test_the_analysis_of_any_document_over_the_schema_never_crashes(document: str) -> None:
    shape = DocumentShape.of(schema(), parse(document), None)
    assert Estimate(shape, {}, Limits(), NetworkShape()).total() >= 0
    assert shape.visits > 0


@given(documents(IDS))
@FEW
def test_the_estimate_is_never_below_the_calls_made(
    emulator_server: SharedServer, document: str
) -> None:
    async def run() -> None:
        with mounted_emulator(emulator_server, DEFAULT_EMULATOR) as emulator:
            state = emulator.state
            ids = [loc.uid for loc in state.network.visible_locations(emulator.tenant_a)[:2]]
            text = document.replace('"1"', f'"{ids[0]}"')
            async with (
                serving(create_app(gateway_settings(emulator.url))) as url,
                httpx.AsyncClient(timeout=60) as http,
            ):
                state.reset()
                response = await http.post(
                    f"{url}/graphql",
                    json={"query": text},
                    headers={"Authorization": f"Bearer {emulator.token_a}", "X-Gateway-Cost": "1"},
                )
            assert response.status_code in (200, 400)
            body = response.json()
            calls = sum(state.counters.values())
            cost = (body.get("extensions") or {}).get("cost")
            if cost is None or cost["estimate"] is None:  # refused before execution
                assert calls == 0
                return
            assert cost["estimate"] >= calls, (text, cost, dict(state.counters))
            for error in body.get("errors", ()):
                assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error

    asyncio.run(run())


@pytest.fixture(scope="module")
def threaded_gateway(emulator_server: SharedServer) -> Iterator[httpx.Client]:
    """One gateway for every example, served from a thread (with its lifespan)."""
    with mounted_emulator(emulator_server, DEFAULT_EMULATOR) as emulator:
        sock = loopback_socket()
        config = uvicorn.Config(
            create_app(gateway_settings(emulator.url)), log_config=None, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                yield client
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


@given(st.binary(max_size=2000))
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_bytes_as_a_body_never_give_a_500(
    threaded_gateway: httpx.Client, body: bytes
) -> None:
    response = threaded_gateway.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500
    assert response.json()["errors"][0]["extensions"]["code"]


@given(st.text(max_size=400))
@settings(max_examples=500, deadline=None)
def test_decoding_any_cursor_never_crashes(cursor: str) -> None:
    codec = CursorCodec("secret", list_name="transactions", filter_key="", token="t")
    with pytest.raises(BadUserInput):
        codec.decode(cursor)
