"""Tenants never mix: 100 interleaved concurrent requests, two tokens, no foreign row."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

QUERY = """
{
  locations(first: 8) {
    nodes {
      id tenantIds labels { value }
      stations { stationId labels { value } tenantIds }
    }
  }
  transactions(first: 10) { nodes { txId location { id } } }
}
"""


def expected_view(emulator: RunningEmulator, tenant: str) -> dict[str, Any]:
    network = emulator.state.network
    locations = network.visible_locations(tenant)[:8]
    return {
        "locations": {loc.uid for loc in locations},
        "labels": {
            label.value
            for loc in locations
            for label in loc.labels or ()
            if label.tenant_ids is None or tenant in label.tenant_ids
        },
        "station_labels": {
            label.value
            for loc in locations
            for station in network.stations_at(loc.uid)
            for label in station.labels
            if label.tenant_ids is None or tenant in label.tenant_ids
        },
        "transactions": {tx.tx_id for tx in network.visible_transactions(tenant)[:10]},
    }


def view_of(body: dict[str, Any]) -> dict[str, Any]:
    nodes = body["data"]["locations"]["nodes"]
    return {
        "locations": {node["id"] for node in nodes},
        "labels": {label["value"] for node in nodes for label in node["labels"]},
        "station_labels": {
            label["value"]
            for node in nodes
            for station in node["stations"]
            for label in station["labels"]
        },
        "transactions": {n["txId"] for n in body["data"]["transactions"]["nodes"]},
    }


async def test_interleaved_tenants_see_only_their_rows(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.latency_ms = 2  # keep many requests in flight at once
    expected = {
        emulator.token_a: expected_view(emulator, emulator.tenant_a),
        emulator.token_b: expected_view(emulator, emulator.tenant_b),
    }
    a, b = expected[emulator.token_a], expected[emulator.token_b]
    assert a["locations"] != b["locations"], "the demo must give the tenants different views"
    assert a["labels"] - b["labels"], "tenant A must have labels that B may not see"

    tokens = [emulator.token_a if i % 2 == 0 else emulator.token_b for i in range(100)]
    bodies = await asyncio.gather(*(gateway.query(QUERY, token=token) for token in tokens))

    for token, body in zip(tokens, bodies, strict=True):
        assert "errors" not in body, body.get("errors")
        assert view_of(body) == expected[token]
        tenant = emulator.tenant_a if token == emulator.token_a else emulator.tenant_b
        for node in body["data"]["locations"]["nodes"]:
            assert tenant in node["tenantIds"]
            for station in node["stations"]:
                assert tenant in station["tenantIds"]
