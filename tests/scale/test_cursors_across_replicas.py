"""A cursor from one replica is good on another: the secret is shared by configuration.

A replica started with a secret of its own refuses it, so the sharing is what works.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.scale.replicas import replicas
from tests.support import RunningEmulator, SharedServer, bearer

PAGE = """query Page($after: String) {
  locations(first: 5, after: $after) { nodes { id } pageInfo { endCursor } }
}"""


def page(url: str, token: str, after: str | None = None) -> dict[str, Any]:
    body = {"query": PAGE, "variables": {"after": after}}
    answer: dict[str, Any] = httpx.post(
        url + "/graphql", json=body, headers=bearer(token), timeout=30
    ).json()
    return answer


def test_a_cursor_from_replica_a_reads_the_next_page_on_replica_b(
    emulator_server: SharedServer, emulator: RunningEmulator
) -> None:
    token = emulator.token_a
    with replicas(2, emulator_server.url, {}) as (a, b):
        first = page(a, token)["data"]["locations"]
        cursor = first["pageInfo"]["endCursor"]
        on_a = page(a, token, cursor)["data"]["locations"]["nodes"]
        on_b = page(b, token, cursor)["data"]["locations"]["nodes"]
    assert on_b == on_a and on_b and on_b[0] not in first["nodes"]

    with replicas(1, emulator_server.url, {"GATEWAY_CURSOR_SECRET": "another-secret"}) as [c]:
        refused = page(c, token, cursor)
    assert refused["data"]["locations"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
