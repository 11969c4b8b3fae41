"""`ConformantGraphQL` speaks GraphQL-over-HTTP: media types, status codes, 4xx for bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.http.toy import toy_app

GRJ = "application/graphql-response+json"
JSON = "application/json"


async def post(
    client: httpx.AsyncClient, body: Any, *, accept: str | None = GRJ, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (GRJ, GRJ),
        (JSON, JSON),
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (f"{GRJ}, {JSON}", GRJ),
        (f"{JSON}, {GRJ}", JSON),
        (f"{GRJ};q=0.5, */*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
)
async def test_answers_in_the_media_type_accept_prefers(
    client: httpx.AsyncClient, accept: str | None, media_type: str
) -> None:
    response = await post(client, {"query": "{ hello }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.json() == {"data": {"hello": "hello world"}}
    assert "accept" in response.headers["vary"].lower()


async def test_refuses_an_accept_without_a_json_type(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello }"}, accept="text/plain")
    assert response.status_code == 406
    assert response.headers["content-type"].startswith(JSON)
    assert "Accept" in response.json()["errors"][0]["message"]


REQUEST_ERRORS = [
    pytest.param({"query": "{"}, id="parse"),
    pytest.param({"query": "{ nope }"}, id="validation"),
    pytest.param(
        {"query": "query($id: ID!) { item(id: $id) { id } }", "variables": {"id": None}},
        id="variable coercion",
    ),
    pytest.param(
        {"query": "query($n: Int) { items(count: $n) { id } }", "variables": {"n": "three"}},
        id="variable type",
    ),
]


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_request_error_is_400_without_data_under_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post(client, body, accept=GRJ)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRJ)
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["message"]


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_request_error_is_200_without_data_under_json(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post(client, body, accept=JSON)
    assert response.status_code == 200
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"]


async def test_field_errors_keep_partial_data_and_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ items(count: 2) { id broken } }"}, accept=GRJ)
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] == {"items": [{"id": "0", "broken": None}, {"id": "1", "broken": None}]}
    assert [error["path"] for error in payload["errors"]] == [
        ["items", 0, "broken"],
        ["items", 1, "broken"],
    ]


async def test_null_data_from_a_field_error_is_still_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ must }"}, accept=GRJ)
    assert response.status_code == 200
    assert response.json()["data"] is None


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query Q($name: String) { hello(name: $name) }",
            "variables": '{"name": "get"}',
            "operationName": "Q",
        },
        headers={"accept": GRJ},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello get"}}


async def test_mutation_over_get_is_405_with_allow_post(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": "mutation { bump }"}, headers={"accept": GRJ}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


async def test_mutation_over_post_runs(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "mutation { bump }"})
    assert response.json() == {"data": {"bump": 1}}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_post_needs_a_json_content_type(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"accept": GRJ}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await client.post("/graphql", content=b'{"query": "{ hello }"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"]


async def test_json_content_type_with_utf8_charset_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql",
        content='{"query": "{ hello(name: \\"Zoë 🏃\\") }"}'.encode(),
        headers={"content-type": "application/json; charset=UTF-8"},
    )
    assert response.json() == {"data": {"hello": "hello Zoë 🏃"}}


@pytest.mark.parametrize(
    "content",
    [b"", b"{ not json", b"[]", b'"{ hello }"', b"42", b"null", b"true"],
)
async def test_body_must_be_a_json_object(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": JSON, "accept": GRJ}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"query": None},
        {"qeury": "{ hello }"},
        {"query": 1},
        {"query": ["{ hello }"]},
        {"query": {"obj": "ect"}},
        {"query": "{ hello }", "operationName": 0},
        {"query": "{ hello }", "operationName": {"obj": "ect"}},
        {"query": "{ hello }", "variables": "{}"},
        {"query": "{ hello }", "variables": ["array"]},
        {"query": "{ hello }", "extensions": False},
        {"query": "{ hello }", "extensions": "string"},
    ],
)
async def test_wrongly_typed_parameters_are_400(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    for accept in (GRJ, JSON):
        response = await post(client, body, accept=accept)
        assert response.status_code == 400, (accept, response.text)
        assert response.headers["content-type"].startswith(accept)


@pytest.mark.parametrize("variables", ["[1]", '"x"', "{not json"])
async def test_get_variables_must_be_a_json_object(
    client: httpx.AsyncClient, variables: str
) -> None:
    response = await client.get("/graphql", params={"query": "{ hello }", "variables": variables})
    assert response.status_code == 400


async def test_null_optional_parameters_are_fine(client: httpx.AsyncClient) -> None:
    body = {"query": "{ hello }", "operationName": None, "variables": None, "extensions": None}
    response = await post(client, body)
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_graphiql_renders_on_get_with_accept_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_can_be_switched_off() -> None:
    # Without the IDE a browser's GET is GraphQL over HTTP: JSON, no page, no Strawberry 404.
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    transport = httpx.ASGITransport(app=toy_app(graphiql=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        html_only = await http.get("/graphql", headers={"accept": "text/html"})
        browser = await http.get("/graphql", headers={"accept": browser_accept})
        query = await http.get(
            "/graphql", params={"query": "{ hello }"}, headers={"accept": browser_accept}
        )
    assert html_only.status_code == 406
    assert browser.status_code == 400
    assert browser.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert query.json() == {"data": {"hello": "hello world"}}
