"""Cursor pagination over upstream `paginationToken` pages: complete, exact, tamper-proof."""

from __future__ import annotations

from datetime import timedelta
from math import ceil
from typing import Any

import pytest

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

TRANSACTIONS = """
query($first: Int!, $after: String, $filter: TransactionFilter) {
  transactions(first: $first, after: $after, filter: $filter) {
    edges { cursor node { txId status technicalFailClassification startTime } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def walk(
    gateway: Gateway, token: str, first: int, filter: dict[str, Any] | None
) -> tuple[list[str], int]:
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        body = await gateway.query(
            TRANSACTIONS, {"first": first, "after": after, "filter": filter}, token=token
        )
        assert "errors" not in body, body.get("errors")
        connection = body["data"]["transactions"]
        pages += 1
        seen += [edge["node"]["txId"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]


@pytest.mark.parametrize("upstream_page_size", [1, 7, None], ids=["ps1", "ps7", "default"])
async def test_walk_returns_exactly_the_tenants_filtered_rows(
    gateway: Gateway, emulator: RunningEmulator, upstream_page_size: int | None
) -> None:
    state = emulator.state
    if upstream_page_size is not None:
        state.page_size = upstream_page_size
    network = state.network
    locations = [loc.uid for loc in network.visible_locations(emulator.tenant_a)[:3]]
    window_end = state.config.now
    assert window_end is not None
    window_start = window_end - timedelta(days=2)
    expected = [
        tx.tx_id
        for tx in network.visible_transactions(
            emulator.tenant_a, location_uids=locations, start=window_start, end=window_end
        )
    ]
    assert len(expected) > 10, "the filter must leave enough rows to cross pages"
    filter = {
        "locationIds": locations,
        "startedFrom": window_start.isoformat(),
        "startedBefore": window_end.isoformat(),
    }
    state.reset()
    seen, graphql_pages = await walk(gateway, emulator.token_a, 9, filter)

    assert seen == expected  # same rows, same order, none missing, none twice
    upstream_pages = ceil(len(expected) / state.page_size)
    # Each GraphQL page refetches at most the one upstream page it starts inside.
    assert state.counters["getNetworkTransactions"] <= upstream_pages + graphql_pages


async def test_classification_filter_is_applied(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    expected = [
        tx.tx_id
        for tx in network.visible_transactions(
            emulator.tenant_a, classifications={"HANDSHAKE_FAIL", "ABRUPT_STOP"}
        )
    ]
    assert expected
    emulator.state.page_size = 50
    filter = {"technicalFailClassifications": ["HANDSHAKE_FAIL", "ABRUPT_STOP"]}
    seen, _ = await walk(gateway, emulator.token_a, 200, filter)
    assert seen == expected


async def test_one_graphql_page_inside_one_upstream_page_is_one_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    state = emulator.state
    state.page_size = 20
    first = await gateway.query(TRANSACTIONS, {"first": 5}, token=emulator.token_a)
    cursor = first["data"]["transactions"]["pageInfo"]["endCursor"]
    state.reset()
    second = await gateway.query(
        TRANSACTIONS, {"first": 5, "after": cursor}, token=emulator.token_a
    )
    assert "errors" not in second
    assert dict(state.counters) == {"getNetworkTransactions": 1}
    expected = [tx.tx_id for tx in state.network.visible_transactions(emulator.tenant_a)]
    assert [e["node"]["txId"] for e in second["data"]["transactions"]["edges"]] == expected[5:10]


async def cursor_after_first_page(gateway: Gateway, token: str, filter: Any = None) -> str:
    body = await gateway.query(TRANSACTIONS, {"first": 3, "filter": filter}, token=token)
    cursor: str = body["data"]["transactions"]["pageInfo"]["endCursor"]
    return cursor


async def assert_bad_cursor(
    gateway: Gateway, emulator: RunningEmulator, variables: dict[str, Any], token: str
) -> None:
    emulator.state.reset()
    body = await gateway.query(TRANSACTIONS, variables, token=token)
    assert body["data"] == {"transactions": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "after"
    assert sum(emulator.state.counters.values()) == 0


async def test_cursor_replayed_with_another_token_is_refused(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    cursor = await cursor_after_first_page(gateway, emulator.token_a)
    await assert_bad_cursor(gateway, emulator, {"first": 3, "after": cursor}, emulator.token_b)


async def test_cursor_replayed_with_another_filter_is_refused(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    cursor = await cursor_after_first_page(gateway, emulator.token_a)
    other = {"technicalFailClassifications": ["OK"]}
    await assert_bad_cursor(
        gateway, emulator, {"first": 3, "after": cursor, "filter": other}, emulator.token_a
    )


async def test_tampered_cursor_is_refused(gateway: Gateway, emulator: RunningEmulator) -> None:
    cursor = await cursor_after_first_page(gateway, emulator.token_a)
    forged = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    await assert_bad_cursor(gateway, emulator, {"first": 3, "after": forged}, emulator.token_a)


async def test_locations_cursor_does_not_work_on_transactions(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    body = await gateway.query(
        "{ locations(first: 2) { pageInfo { endCursor } } }", token=emulator.token_a
    )
    cursor = body["data"]["locations"]["pageInfo"]["endCursor"]
    await assert_bad_cursor(gateway, emulator, {"first": 3, "after": cursor}, emulator.token_a)


@pytest.mark.parametrize("first", [-1, 201])
async def test_first_outside_the_cap_is_refused_before_any_call(
    gateway: Gateway, emulator: RunningEmulator, first: int
) -> None:
    emulator.state.reset()
    body = await gateway.query(TRANSACTIONS, {"first": first}, token=emulator.token_a)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    assert sum(emulator.state.counters.values()) == 0


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"technicalFailClassifications": ["UNKNOWN"]}, "technicalFailClassifications"),
        (
            {"startedFrom": "2025-06-02T00:00:00Z", "startedBefore": "2025-06-01T00:00:00Z"},
            "startedFrom",
        ),
        ({"locationIds": [f"L{i}" for i in range(101)]}, "locationIds"),
    ],
    ids=["unknown-classification", "inverted-window", "too-many-locations"],
)
async def test_impossible_filters_are_refused_before_any_call(
    gateway: Gateway, emulator: RunningEmulator, filter: dict[str, Any], field: str
) -> None:
    emulator.state.reset()
    body = await gateway.query(TRANSACTIONS, {"first": 5, "filter": filter}, token=emulator.token_a)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert sum(emulator.state.counters.values()) == 0
