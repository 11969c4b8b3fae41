"""Small helpers for the emulator's tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import bearer

# Answer key of each paged network view.
PAGED_KEYS = {
    "/locations/networkStatus": "locations",
    "/locations/networkHardwareErrors": "errors",
    "/locations/problematicSessions": "sessions",
    "/locations/networkTransactions": "transactions",
}


async def walk(
    http: httpx.AsyncClient, path: str, token: str, params: Any = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of a paged view (following paginationToken), and the raw page bodies."""
    rows: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = httpx.QueryParams(params or {})
        if cursor:
            query = query.set("paginationToken", cursor)
        response = await http.get(path, params=query, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        rows.extend(body[PAGED_KEYS[path]])
        cursor = body.get("paginationToken")
        if not cursor:
            return rows, pages


async def get(http: httpx.AsyncClient, path: str, token: str, params: Any = None) -> httpx.Response:
    return await http.get(path, params=params, headers=bearer(token))
