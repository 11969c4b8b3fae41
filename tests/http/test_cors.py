"""CORS: configured origins only, preflights answered, no wildcard with credentials."""

from __future__ import annotations

import httpx
import pytest

from gateway.http.middleware import cors_origins, http_middleware
from tests.http.conftest import GRAPHIQL_ORIGIN, LOCAL_ORIGIN, Gateway
from tests.http.toy import toy_app, with_settings

GRAPHIQL = GRAPHIQL_ORIGIN
LOCAL = LOCAL_ORIGIN
QUERY = {"query": "{ hello }"}


def client_for(**settings: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=toy_app(with_settings(**settings)))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }


async def test_no_origin_is_allowed_by_default() -> None:
    async with client_for() as http:
        answer = await http.options("/graphql", headers=preflight(GRAPHIQL))
        response = await http.post("/graphql", json=QUERY, headers={"origin": GRAPHIQL})
    assert "access-control-allow-origin" not in answer.headers
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_from_an_allowed_origin() -> None:
    async with client_for(cors_origins=(GRAPHIQL, LOCAL)) as http:
        answer = await http.options("/graphql", headers=preflight(GRAPHIQL))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == GRAPHIQL
    assert {"GET", "POST"} <= set(answer.headers["access-control-allow-methods"].split(", "))
    allowed = {h.lower() for h in answer.headers["access-control-allow-headers"].split(", ")}
    assert {"authorization", "content-type"} <= allowed
    assert answer.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in answer.headers
    assert "origin" in answer.headers["vary"].lower()


async def test_preflight_from_another_origin_is_refused() -> None:
    async with client_for(cors_origins=(GRAPHIQL,)) as http:
        answer = await http.options("/graphql", headers=preflight("http://localhost:6666"))
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


async def test_preflight_for_an_unlisted_header_is_refused() -> None:
    async with client_for(cors_origins=(GRAPHIQL,)) as http:
        answer = await http.options("/graphql", headers=preflight(GRAPHIQL, "x-token"))
    assert answer.status_code == 400


async def test_actual_request_echoes_only_an_allowed_origin() -> None:
    async with client_for(cors_origins=(GRAPHIQL,)) as http:
        allowed = await http.post("/graphql", json=QUERY, headers={"origin": GRAPHIQL})
        other = await http.post("/graphql", json=QUERY, headers={"origin": "http://evil.test"})
    assert allowed.headers["access-control-allow-origin"] == GRAPHIQL
    assert "origin" in allowed.headers["vary"].lower()
    assert "access-control-allow-origin" not in other.headers


async def test_wildcard_without_credentials_is_plain_star() -> None:
    async with client_for(cors_origins=("*",)) as http:
        answer = await http.options("/graphql", headers=preflight(GRAPHIQL))
        response = await http.post("/graphql", json=QUERY, headers={"origin": GRAPHIQL})
    assert answer.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_credentials_go_with_an_echoed_origin_never_a_star() -> None:
    async with client_for(cors_origins=(GRAPHIQL,), cors_allow_credentials=True) as http:
        answer = await http.options("/graphql", headers=preflight(GRAPHIQL))
        response = await http.post("/graphql", json=QUERY, headers={"origin": GRAPHIQL})
    for headers in (answer.headers, response.headers):
        assert headers["access-control-allow-origin"] == GRAPHIQL
        assert headers["access-control-allow-credentials"] == "true"


def test_wildcard_with_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="CREDENTIALS"):
        http_middleware(with_settings(cors_origins=("*",), cors_allow_credentials=True))


def test_origins_are_normalised_to_what_browsers_send() -> None:
    settings = with_settings(cors_origins=("http://LocalHost:5173/", " https://a.test "))
    assert cors_origins(settings) == ["http://localhost:5173", "https://a.test"]


@pytest.mark.parametrize(
    "origin", ["localhost:5173", "http://a.test/graphiql", "ftp://a.test", "http://u@a.test", ""]
)
def test_malformed_origins_are_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        http_middleware(with_settings(cors_origins=(origin,)))


async def test_a_refused_body_still_carries_cors_headers() -> None:
    # Otherwise the page sees an opaque network error instead of the 413.
    async with client_for(cors_origins=(GRAPHIQL,), max_body_bytes=100) as http:
        response = await http.post(
            "/graphql", json={"query": "{ hello }", "pad": "x" * 200}, headers={"origin": GRAPHIQL}
        )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == GRAPHIQL


async def test_the_gateway_answers_the_configured_origins(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.options(gateway.url, headers=preflight(GRAPHIQL_ORIGIN))
        response = await http.post(
            gateway.url, json={"query": "{ __typename }"}, headers={"origin": LOCAL_ORIGIN}
        )
        other = await http.options(gateway.url, headers=preflight("http://localhost:1"))
    assert answer.headers["access-control-allow-origin"] == GRAPHIQL_ORIGIN
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert other.status_code == 400
