"""Credentials come from `Authorization: Bearer` only; a token anywhere else is ignored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.requests import Request

from gateway.http.auth import bearer_token
from tests.http.conftest import Gateway

LOCATIONS = {"query": "{ locations(first: 2) { nodes { id } } }"}


def request_with(headers: dict[str, str]) -> Request:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "GET", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer tok-1", "tok-1"),
        ("bearer tok-1", "tok-1"),
        ("  BEARER   tok-1  ", "tok-1"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Basic tok-1", None),
        ("tok-1", None),
        ("", None),
    ],
)
def test_bearer_token_reads_the_authorization_header(authorization: str, token: str | None) -> None:
    assert bearer_token(request_with({"Authorization": authorization})) == token


def test_no_header_no_token() -> None:
    assert bearer_token(request_with({})) is None


def elsewhere(token: str) -> list[dict[str, Any]]:
    """Every place a careless gateway might look for a token, the header excepted."""
    return [
        {"params": {"token": token}},
        {"params": {"access_token": token}},
        {"cookies": {"token": token}},
        {"cookies": {"access_token": token}},
        {"cookies": {"Authorization": f"Bearer {token}"}},
        {"json": {**LOCATIONS, "token": token}},
        {"json": {**LOCATIONS, "access_token": token}},
        {"json": {**LOCATIONS, "extensions": {"authorization": f"Bearer {token}"}}},
        {"headers": {"X-Access-Token": token}},
        {"headers": {"Authorization": f"Token {token}"}},
    ]


async def test_a_token_anywhere_but_the_header_is_ignored(gateway: Gateway) -> None:
    for where in elsewhere(gateway.emulator.token_a):
        async with httpx.AsyncClient(cookies=where.pop("cookies", None)) as http:
            where.setdefault("json", LOCATIONS)
            response = await http.post(gateway.url, **where)
        assert response.status_code == 200, where
        payload = response.json()
        assert payload["data"] == {"locations": None}, where
        assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", where
    assert gateway.upstream_calls() == 0


async def test_a_token_in_the_query_string_of_a_get_is_ignored(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            gateway.url,
            params={"query": LOCATIONS["query"], "access_token": gateway.emulator.token_a},
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert gateway.upstream_calls() == 0


async def test_the_header_token_is_used(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            gateway.url,
            json=LOCATIONS,
            headers={"Authorization": f"Bearer {gateway.emulator.token_a}"},
        )
    assert len(response.json()["data"]["locations"]["nodes"]) == 2
    assert gateway.upstream_calls() >= 1
