"""A corpus of hostile documents and bodies: each gets a clear answer with a code, and
none costs a single upstream call.

Documents built to make analysis explode, floods of aliases, depth, fields and entities,
malformed or deeply nested JSON, invalid UTF-8, ids no upstream could hold, wrong
methods, media types and shapes of body. Each case states the statuses it may get and
the `extensions.code` of its first error (or the data it must get, for documents that are
cheap once collected as execution collects them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

JSON = "application/json"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"


def explosion(levels: int, on: str, leaf: str) -> str:
    fragments = [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "\n".join([*fragments, f"fragment F{levels} on {on} {{ {leaf} }}"])


def branching(levels: int) -> str:
    fragments = [
        f"fragment L{i} on Location {{ a: stations {{ location {{ ...L{i + 1} }} }}"
        f" b: evses {{ location {{ ...L{i + 1} }} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment L{levels} on Location {{ id }}")
    return "{ locations { nodes { ...L0 } } }\n" + "\n".join(fragments)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes | None = None  # raw body; else `query`/`variables` as JSON
    query: str | None = None
    variables: Any = None
    method: str = "POST"
    content_type: str | None = JSON
    accept: str = JSON
    params: dict[str, str] = field(default_factory=dict)
    statuses: tuple[int, ...] = (200, 400)
    code: str | None = None  # the first error's code; None: `data` must equal `data`
    data: Any = None


def q(name: str, query: str, code: str | None, variables: Any = None, **more: Any) -> Case:
    return Case(name, query=query, variables=variables, code=code, **more)


ODD = "x" * 500_000
CASES = [
    # --- documents that would explode an analysis that expands fragments ---------------
    q(
        "explosion-30-on-query",
        "{ ...F0 }\n" + explosion(30, "Query", "__typename"),
        None,
        data={"__typename": "Query"},
    ),
    q(
        "explosion-30-on-location",
        'query { location(id: "../x") { ...F0 } }\n' + explosion(30, "Location", "id name"),
        None,
        data={"location": None},
    ),
    q(
        "explosion-40-on-query",
        "{ ...F0 }\n" + explosion(40, "Query", "__typename"),
        None,
        data={"__typename": "Query"},
    ),
    q("branching-fragments", branching(12), VALIDATION),
    # --- floods ---------------------------------------------------------------------------
    q("aliases-5000", "{ " + " ".join(f"a{i}: __typename" for i in range(5000)) + " }", VALIDATION),
    q("aliases-31", "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", VALIDATION),
    q(
        "depth-100",
        "{ " + 'station(id: "s") { location { ' * 50 + "id" + " } }" * 50 + " }",
        VALIDATION,
    ),
    q("tokens-flood", "{ " + "__typename " * 6000 + "}", VALIDATION),
    q("directives-flood", "{ __typename" + " @include(if: true)" * 2000 + " }", VALIDATION),
    q(
        "root-fields-25",
        "{ " + " ".join(f'l{i}: location(id: "x{i}") {{ id }}' for i in range(25)) + " }",
        "QUERY_TOO_COMPLEX",
    ),
    q(
        "costly-nesting",
        """{ locations(first: 200) { nodes { stations { evses {
        transactions(first: 200) { nodes { txId } } } } } } }""",
        "QUERY_TOO_COMPLEX",
    ),
    q(
        "entities-101",
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        "QUERY_TOO_COMPLEX",
        variables={"r": [{"__typename": "Location", "id": str(i)} for i in range(101)]},
    ),
    Case(
        "megabyte-of-fields",
        body=json.dumps({"query": "{ " + "__typename " * 110_000 + "}"}).encode(),
        statuses=(413,),
        code="PAYLOAD_TOO_LARGE",
    ),
    # --- ids and strings no upstream could hold -------------------------------------------
    q(
        "huge-location-id",
        "query($id: ID!) { location(id: $id) { id } }",
        None,
        variables={"id": ODD},
        data={"location": None},
    ),
    q(
        "huge-station-id",
        "query($id: ID!) { station(id: $id) { name } }",
        None,
        variables={"id": ODD},
        data={"station": None},
    ),
    q(
        "huge-evse-ids",
        "query($s: ID!) { evse(stationId: $s, evseId: $s) { status } }",
        None,
        variables={"s": ODD},
        data={"evse": None},
    ),
    q(
        "null-byte-id",
        "query($id: ID!) { location(id: $id) { id } }",
        None,
        variables={"id": "a\x00b"},
        data={"location": None},
    ),
    q(
        "huge-filter-id",
        "query($id: ID!) { networkSummary(locationIds: [$id]) { stationCount } }",
        "BAD_USER_INPUT",
        variables={"id": ODD},
    ),
    q(
        "huge-search",
        "query($s: String) { locations(filter: {search: $s}) { nodes { id } } }",
        "BAD_USER_INPUT",
        variables={"s": ODD},
    ),
    q(
        "huge-severity",
        """query($s: String!) { hardwareErrors(filter: {severities: [$s]}) {
        nodes { stationId } } }""",
        "BAD_USER_INPUT",
        variables={"s": "y" * 10_000},
    ),
    q(
        "garbage-cursor",
        '{ transactions(after: "!!not a cursor!!") { nodes { txId } } }',
        "BAD_USER_INPUT",
    ),
    q("negative-first", "{ transactions(first: -1) { nodes { txId } } }", "BAD_USER_INPUT"),
    q("giant-first", "{ transactions(first: 1000000) { nodes { txId } } }", "BAD_USER_INPUT"),
    q("int-overflow", "{ transactions(first: 10000000000) { nodes { txId } } }", VALIDATION),
    # --- entities ---------------------------------------------------------------------------
    q(
        "entity-unknown-typename",
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        "BAD_USER_INPUT",
        variables={"r": [{"__typename": "Nope", "id": "1"}]},
    ),
    q(
        "entity-not-an-object",
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        "BAD_USER_INPUT",
        variables={"r": ["Location"]},
    ),
    q(
        "entity-without-key",
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Station { name } } }",
        "BAD_USER_INPUT",
        variables={"r": [{"__typename": "Station"}]},
    ),
    q(
        "entity-without-typename",
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        "BAD_USER_INPUT",
        variables={"r": [{"id": "1"}]},
    ),
    # --- operations -------------------------------------------------------------------------
    q("two-operations-no-name", "query A { __typename } query B { __typename }", VALIDATION),
    Case(
        "missing-operation-name",
        body=json.dumps({"query": "query A { __typename }", "operationName": "B"}).encode(),
        code="BAD_REQUEST",
    ),
    q("unknown-field", "{ nope }", VALIDATION),
    q("syntax-error", "{ locations { nodes { id }", VALIDATION),
    q("missing-argument", "{ location { id } }", VALIDATION),
    q(
        "variable-of-wrong-type",
        "query($n: Int!) { transactions(first: $n) { nodes { txId } } }",
        "BAD_USER_INPUT",
        variables={"n": "ten"},
    ),
    # --- bodies -------------------------------------------------------------------------------
    Case(
        "invalid-utf8",
        body=b'{"query": "{ __typename \xff\xfe }"}',
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case(
        "json-nested-100",
        body=json.dumps({"query": "{ __typename }"})[:-1].encode()
        + b', "variables": {"v": '
        + nested(100).encode()
        + b"}}",
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case(
        "json-nested-5000",
        body=b'{"query": "{ __typename }", "variables": {"v": ' + nested(5000).encode() + b"}}",
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case(
        "json-nested-100000",
        body=b'{"query": "{ __typename }", "variables": {"v": ' + nested(100_000).encode() + b"}}",
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case(
        "extensions-nested",
        body=b'{"query": "{ __typename }", "extensions": {"e": ' + nested(80).encode() + b"}}",
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case("not-json", body=b"query { __typename }", statuses=(400,), code="BAD_REQUEST"),
    Case("empty-body", body=b"", statuses=(400,), code="BAD_REQUEST"),
    Case(
        "batched-array", body=b'[{"query": "{ __typename }"}]', statuses=(400,), code="BAD_REQUEST"
    ),
    Case("json-string", body=b'"{ __typename }"', statuses=(400,), code="BAD_REQUEST"),
    Case("json-null", body=b"null", statuses=(400,), code="BAD_REQUEST"),
    Case("query-not-a-string", body=b'{"query": 42}', statuses=(400,), code="BAD_REQUEST"),
    Case(
        "variables-not-an-object",
        body=b'{"query": "{ __typename }", "variables": [1]}',
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case(
        "operation-name-not-a-string",
        body=b'{"query": "{ __typename }", "operationName": 1}',
        statuses=(400,),
        code="BAD_REQUEST",
    ),
    Case("no-query", body=b"{}", statuses=(400,), code="BAD_REQUEST"),
    # --- media types and methods --------------------------------------------------------------
    Case(
        "text-plain",
        body=b'{"query": "{ __typename }"}',
        content_type="text/plain",
        statuses=(415,),
        code="UNSUPPORTED_MEDIA_TYPE",
    ),
    Case(
        "no-content-type",
        body=b'{"query": "{ __typename }"}',
        content_type=None,
        statuses=(415,),
        code="UNSUPPORTED_MEDIA_TYPE",
    ),
    Case(
        "latin-1",
        body=b'{"query": "{ __typename }"}',
        content_type="application/json; charset=latin-1",
        statuses=(415,),
        code="UNSUPPORTED_MEDIA_TYPE",
    ),
    Case(
        "form-data",
        body=b"query=x",
        content_type="multipart/form-data; boundary=x",
        statuses=(415,),
        code="UNSUPPORTED_MEDIA_TYPE",
    ),
    Case(
        "put",
        body=b'{"query": "{ __typename }"}',
        method="PUT",
        statuses=(405,),
        code="METHOD_NOT_ALLOWED",
    ),
    Case("delete", method="DELETE", body=b"", statuses=(405,), code="METHOD_NOT_ALLOWED"),
    Case(
        "accept-png",
        body=b'{"query": "{ __typename }"}',
        accept="image/png",
        statuses=(406,),
        code="NOT_ACCEPTABLE",
    ),
    Case(
        "mutation-over-get",
        method="GET",
        content_type=None,
        params={"query": 'mutation { createLocation(input: {name: "x"}) { id } }'},
        statuses=(405,),
        code="METHOD_NOT_ALLOWED",
    ),
    Case(
        "get-variables-not-json",
        method="GET",
        content_type=None,
        params={"query": "{ __typename }", "variables": "{not json"},
        statuses=(400,),
        code="BAD_REQUEST",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_a_hostile_request_gets_a_clear_coded_answer_and_costs_no_call(
    gateway: Gateway, emulator: RunningEmulator, case: Case
) -> None:
    emulator.state.reset()
    headers = {"Authorization": f"Bearer {emulator.token_a}", "Accept": case.accept}
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    body = case.body
    if body is None and case.method == "POST":
        body = json.dumps({"query": case.query, "variables": case.variables}).encode()
    response = await gateway.http.request(
        case.method, f"{gateway.url}/graphql", content=body, params=case.params, headers=headers
    )
    assert response.status_code in case.statuses, response.text[:500]
    answer = response.json()
    if case.code is None:
        assert "errors" not in answer, answer["errors"]
        assert answer["data"] == case.data
    else:
        assert answer["errors"][0]["extensions"]["code"] == case.code, answer["errors"][0]
        assert len(answer["errors"][0]["message"]) < 1000  # never an echo of the input
    assert sum(emulator.state.counters.values()) == 0
    assert "Traceback" not in response.text


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
