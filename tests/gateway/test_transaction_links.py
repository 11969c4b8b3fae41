"""Transactions to EVSEs and back: the right station, the fewest lookups."""

from __future__ import annotations

from math import ceil
from typing import Any

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator


def needs_lookup(emulator: RunningEmulator, tx: Any) -> bool:
    """True when the location's status tree alone cannot name the session's EVSE."""
    network = emulator.state.network
    candidates = [
        evse
        for station in network.stations_at(tx.location_uid)
        for evse in network.evses_of(station.station_id)
        if evse.evse_id == tx.evse_id
    ]
    running = [evse for evse in candidates if evse.tx_id == tx.tx_id]
    return len(running) != 1 and len(candidates) != 1


async def test_network_transactions_resolve_to_their_evse(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    txs = network.visible_transactions(emulator.tenant_a)[:20]
    lookups = sum(1 for tx in txs if needs_lookup(emulator, tx))
    uids = {tx.location_uid for tx in txs}
    emulator.state.reset()
    body = await gateway.query(
        "{ transactions(first: 20) { nodes { txId evse { stationId evseId } } } }",
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    for node, tx in zip(body["data"]["transactions"]["nodes"], txs, strict=True):
        assert node["txId"] == tx.tx_id
        assert node["evse"] == {"stationId": tx.station_id, "evseId": tx.evse_id}
    expected = {
        "getNetworkTransactions": ceil(20 / emulator.state.page_size),
        "getNetworkStatus": ceil(len(uids) / emulator.state.page_size),
    }
    if lookups:
        expected["getTransaction"] = lookups
    assert {op: n for op, n in emulator.state.counters.items() if n} == expected


async def test_evse_transactions_walk_the_station_list_filtered_to_the_evse(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    station = next(
        s
        for s in network.visible_stations(emulator.tenant_a)
        if len(network.evses_of(s.station_id)) > 1
    )
    evse = network.evses_of(station.station_id)[1]
    expected = [
        tx.tx_id
        for tx in network.visible_transactions(emulator.tenant_a)
        if tx.station_id == station.station_id and tx.evse_id == evse.evse_id
    ]
    assert len(expected) > 7
    query = """query($s: ID!, $e: ID!, $after: String) { evse(stationId: $s, evseId: $e) {
                 transactions(first: 7, after: $after) {
                   nodes { txId evseId evse { evseId } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str] = []
    after = None
    while True:
        body = await gateway.query(
            query,
            {"s": station.station_id, "e": evse.evse_id, "after": after},
            token=emulator.token_a,
        )
        assert "errors" not in body, body.get("errors")
        page = body["data"]["evse"]["transactions"]
        assert all(node["evseId"] == evse.evse_id for node in page["nodes"])
        assert all(node["evse"]["evseId"] == evse.evse_id for node in page["nodes"])
        seen += [node["txId"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
