"""Paged network views: walks cross pages and serve each row once, in a stable order; the
last page is marked as the contract says; tokens are opaque and bound to their query."""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import pytest

from tests.emulator.helpers import get, walk
from tests.support import RunningEmulator, bearer

WINDOW = {"startDate": "2025-06-01"}  # about a day of transactions: dozens of pages


def iso_start(row: dict[str, str]) -> datetime:
    return datetime.fromisoformat(row["startTime"])


async def test_network_status_walk(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    expected = [loc.uid for loc in emulator.state.network.visible_locations(emulator.tenant_a)]
    rows, pages = await walk(http, "/locations/networkStatus", emulator.token_a)
    assert [row["id"] for row in rows] == expected
    assert len(pages) == math.ceil(len(expected) / 5) > 1
    assert all(len(page["locations"]) == 5 and page["paginationToken"] for page in pages[:-1])
    assert "paginationToken" not in pages[-1]


async def test_hardware_errors_walk(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    expected = emulator.state.network.visible_hardware_errors(emulator.tenant_a)
    rows, pages = await walk(http, "/locations/networkHardwareErrors", emulator.token_a)
    assert [row["alert"]["id"] for row in rows] == [e.alert_id for e in expected]
    assert len(pages) > 1 and "paginationToken" not in pages[-1]
    stamps = [row["timestamp"] for row in rows]
    assert stamps == sorted(stamps, reverse=True)


async def test_problematic_sessions_walk_ends_with_an_empty_token(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    start = datetime.fromisoformat("2025-05-30T00:00:00+00:00")
    expected = emulator.state.network.visible_sessions(emulator.tenant_a, start=start)
    rows, pages = await walk(
        http, "/locations/problematicSessions", emulator.token_a, {"startDate": "2025-05-30"}
    )
    assert [row["transaction"]["txId"] for row in rows] == [s.transaction.tx_id for s in expected]
    assert len(pages) > 1
    assert pages[-1]["paginationToken"] == ""  # required by the contract, empty at the end


async def test_transactions_walk_is_newest_first_with_every_row_once(
    raw: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    emulator.state.page_size = 10
    start = datetime.fromisoformat("2025-06-01T00:00:00+00:00")
    expected = emulator.state.network.visible_transactions(emulator.tenant_a, start=start)
    rows, pages = await walk(raw, "/locations/networkTransactions", emulator.token_a, WINDOW)
    ids = [row["txId"] for row in rows]
    assert ids == [tx.tx_id for tx in expected]
    assert len(ids) == len(set(ids)) and len(pages) > 10
    keys = [(-iso_start(row).timestamp(), row["txId"]) for row in rows]
    assert keys == sorted(keys)


async def test_a_short_answer_is_one_page_without_a_token(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    rows, pages = await walk(
        http, "/locations/networkStatus", emulator.token_a, {"locationUids": uid}
    )
    assert [row["id"] for row in rows] == [uid]
    assert pages == [{"locations": rows}]


async def test_page_size_is_a_live_knob(http: httpx.AsyncClient, emulator: RunningEmulator) -> None:
    emulator.state.page_size = 7
    first = (await get(http, "/locations/networkStatus", emulator.token_a)).json()
    assert len(first["locations"]) == 7
    emulator.state.page_size = 3  # a walk may continue under another size
    rows, _ = await walk(
        http,
        "/locations/networkStatus",
        emulator.token_a,
        {"paginationToken": first["paginationToken"]},
    )
    expected = [loc.uid for loc in emulator.state.network.visible_locations(emulator.tenant_a)]
    assert [row["id"] for row in first["locations"] + rows] == expected


async def test_a_location_created_mid_walk_joins_the_end(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    before = [loc.uid for loc in emulator.state.network.visible_locations(emulator.tenant_a)]
    first = (await get(http, "/locations/networkStatus", emulator.token_a)).json()
    created = await http.post(
        "/locations", headers=bearer(emulator.token_a), json={"location": {"name": "New"}}
    )
    rows, _ = await walk(
        http,
        "/locations/networkStatus",
        emulator.token_a,
        {"paginationToken": first["paginationToken"]},
    )
    seen = [row["id"] for row in first["locations"] + rows]
    assert seen == [*before, created.json()["id"]]


async def first_token(
    http: httpx.AsyncClient,
    token: str,
    path: str = "/locations/networkTransactions",
    params: object = None,
) -> str:
    body = (await get(http, path, token, params)).json()
    cursor: str = body["paginationToken"]
    return cursor


async def test_a_token_continues_the_same_filter_in_any_encoding(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    uids = sorted({tx.location_uid for tx in emulator.state.network.transactions})[:3]
    cursor = await first_token(http, emulator.token_a, params=[("locationUids", u) for u in uids])
    reordered = [("locationUids", f"{uids[2]},{uids[0]}"), ("locationUids", uids[1])]
    response = await get(
        http,
        "/locations/networkTransactions",
        emulator.token_a,
        [*reordered, ("paginationToken", cursor)],
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "other",
    [
        {"locationUids": "some-other-location"},
        {"technicalFailClassification": "OK"},
        {"startDate": "2025-05-01"},
        {"endDate": "2025-06-01"},
        {},
    ],
)
async def test_a_token_is_refused_for_another_filter(
    http: httpx.AsyncClient, emulator: RunningEmulator, other: dict[str, str]
) -> None:
    uid = emulator.state.network.transactions[0].location_uid
    cursor = await first_token(
        http, emulator.token_a, params={"locationUids": uid, "startDate": "2025-05-20"}
    )
    response = await get(
        http,
        "/locations/networkTransactions",
        emulator.token_a,
        {**other, "paginationToken": cursor},
    )
    assert response.status_code == 400
    assert "different query" in response.json()["message"]


async def test_a_token_is_refused_by_another_operation_or_tenant(
    http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    cursor = await first_token(http, emulator.token_a)
    on_sessions = await get(
        http, "/locations/problematicSessions", emulator.token_a, {"paginationToken": cursor}
    )
    by_tenant_b = await get(
        http, "/locations/networkTransactions", emulator.token_b, {"paginationToken": cursor}
    )
    assert on_sessions.status_code == by_tenant_b.status_code == 400


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: "garbage",
        lambda t: "",
        lambda t: t + "x",
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],  # payload changed, signature kept
        lambda t: t.split(".")[0],
    ],
)
async def test_garbled_tokens_are_refused(
    http: httpx.AsyncClient, emulator: RunningEmulator, forge: object
) -> None:
    assert callable(forge)
    cursor = await first_token(http, emulator.token_a)
    for path in ("/locations/networkTransactions", "/locations/networkStatus"):
        response = await get(http, path, emulator.token_a, {"paginationToken": forge(cursor)})
        assert response.status_code == 400, path
