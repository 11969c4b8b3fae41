"""The gateway as a subgraph behind a real Apollo Federation 2 router (@apollo/gateway).

`tests/js/federation.mjs` composes a supergraph from the gateway (`chargeye`) and a tiny
`parking` subgraph with IntrospectAndCompose, serves it through @apollo/server, and sends
the requests given here with the caller's token; the router forwards the `Authorization`
header to both subgraphs. One script run per test (about a second: Node start and
composition); the emulator counts what each run cost upstream.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.app import create_app
from tests.gateway.conftest import gateway_settings
from tests.http.audit import ROOT, node
from tests.support import RunningEmulator, serving

SCRIPT = ROOT / "tests" / "js" / "federation.mjs"
FEATURED = 5  # locations the parking subgraph promotes; more than one, so a batch

# Both directions in one operation: `featuredLocations` starts in parking and needs our
# `_entities` for name and city; `locations` starts with us and needs parking's
# `_entities` for `parkingNotice`.
JOINED = """
query Joined($first: Int!) {
  featuredLocations { id name city parkingNotice }
  locations(first: $first) { nodes { id name parkingNotice } }
}
"""

FEATURED_NAMES = "{ featuredLocations { id name city } }"
FEATURED_NOTICES = "{ featuredLocations { id parkingNotice name } }"
OUR_LOCATIONS = "{ locations(first: 2) { nodes { id name } } }"


def parking_notice(location_id: str) -> str:
    """What the parking subgraph of the script answers, from the id alone."""
    return f"Visitors park free for 2 h at {location_id}"


@pytest.fixture
async def subgraph(emulator: RunningEmulator) -> AsyncIterator[str]:
    """The gateway's GraphQL URL, served in front of the emulator as a router reaches it."""
    async with serving(create_app(gateway_settings(emulator.url))) as base:
        yield f"{base}/graphql"


async def through_router(
    subgraph: str, featured: list[str], requests: list[dict[str, Any]]
) -> dict[str, Any]:
    """Run the router over `subgraph` and send `requests`; its JSON answer."""
    assert (ROOT / "node_modules" / "@apollo" / "gateway").is_dir(), (
        "@apollo/gateway is missing from node_modules: run `npm ci` (`make test` does it)"
    )
    process = await asyncio.create_subprocess_exec(
        node(),
        str(SCRIPT),
        subgraph,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    payload = json.dumps({"featured": featured, "requests": requests}).encode()
    out, err = await asyncio.wait_for(process.communicate(payload), 30)
    # Non-zero when the supergraph does not compose; stderr says why.
    assert process.returncode == 0, err.decode()
    answer: dict[str, Any] = json.loads(out)
    return answer


def featured_ids(emulator: RunningEmulator) -> list[str]:
    rows = emulator.state.network.visible_locations(emulator.tenant_a)[:FEATURED]
    return [row.id for row in rows]


def calls(emulator: RunningEmulator) -> dict[str, int]:
    return {operation: n for operation, n in emulator.state.counters.items() if n}


async def test_supergraph_composes_and_joins_both_ways(
    subgraph: str, emulator: RunningEmulator
) -> None:
    rows = emulator.state.network.visible_locations(emulator.tenant_a)
    featured = [row.id for row in rows[:FEATURED]]
    answer = await through_router(
        subgraph,
        featured,
        [{"query": JOINED, "variables": {"first": 3}, "token": emulator.token_a}],
    )

    # Our subgraph composed, as it is, with one written in Federation 2 by Apollo's tools.
    sdl = answer["supergraphSdl"]
    assert '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)' in sdl
    assert f'CHARGEYE @join__graph(name: "chargeye", url: "{subgraph}")' in sdl
    assert 'PARKING @join__graph(name: "parking"' in sdl
    assert (
        "type Location\n"
        '  @join__type(graph: CHARGEYE, key: "id")\n'
        '  @join__type(graph: PARKING, key: "id")\n'
    ) in sdl
    assert '@join__type(graph: CHARGEYE, key: "stationId")' in sdl
    assert '@join__type(graph: CHARGEYE, key: "stationId evseId")' in sdl
    assert "parkingNotice: String @join__field(graph: PARKING)" in sdl

    [result] = answer["results"]
    assert result["errors"] is None
    assert result["data"] == {
        "featuredLocations": [
            {
                "id": row.id,
                "name": row.name,
                "city": row.city,
                "parkingNotice": parking_notice(row.id),
            }
            for row in rows[:FEATURED]
        ],
        "locations": {
            "nodes": [
                {"id": row.id, "name": row.name, "parkingNotice": parking_notice(row.id)}
                for row in rows[:3]
            ]
        },
    }
    # The plan: a root fetch from each subgraph, then an `_entities` fetch the other way
    # for each, every one with the caller's token.
    fetches = result["fetches"]
    entity_fetches = sorted(
        (fetch["service"], fetch["representations"]) for fetch in fetches if fetch["entities"]
    )
    assert entity_fetches == [("chargeye", FEATURED), ("parking", 3)]
    assert sorted(fetch["service"] for fetch in fetches if not fetch["entities"]) == [
        "chargeye",
        "parking",
    ]
    assert all(fetch["authorization"] for fetch in fetches)


async def test_the_routers_entities_fetch_costs_one_upstream_call(
    subgraph: str, emulator: RunningEmulator
) -> None:
    featured = featured_ids(emulator)
    emulator.state.reset()
    answer = await through_router(
        subgraph, featured, [{"query": FEATURED_NAMES, "token": emulator.token_a}]
    )
    [result] = answer["results"]
    assert result["errors"] is None
    assert [location["id"] for location in result["data"]["featuredLocations"]] == featured
    assert all(location["name"] for location in result["data"]["featuredLocations"])
    # The router asks for the five locations in one `_entities` fetch; the loaders answer
    # it with one list call, not five `getLocation`. Composition (`_service`) costs none.
    assert [(f["service"], f["representations"]) for f in result["fetches"] if f["entities"]] == [
        ("chargeye", FEATURED)
    ]
    assert calls(emulator) == {"getLocations": 1}


async def test_without_a_token_our_fields_fail_unauthenticated(
    subgraph: str, emulator: RunningEmulator
) -> None:
    featured = featured_ids(emulator)
    emulator.state.reset()
    notices, ours = (
        await through_router(
            subgraph, featured, [{"query": FEATURED_NOTICES}, {"query": OUR_LOCATIONS}]
        )
    )["results"]

    # Parking needs no token and still answers; every Location the router asks us for
    # fails with our code, carried through the router with the subgraph's name.
    assert notices["data"] == {
        "featuredLocations": [
            {"id": uid, "parkingNotice": parking_notice(uid), "name": None} for uid in featured
        ]
    }
    assert sorted(tuple(error["path"]) for error in notices["errors"]) == [
        ("featuredLocations", index) for index in range(FEATURED)
    ]
    # A root field of ours: `locations` is nullable, so only it is null.
    assert ours["data"] == {"locations": None}
    assert [error["path"] for error in ours["errors"]] == [["locations"]]
    for error in notices["errors"] + ours["errors"]:
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["extensions"]["serviceName"] == "chargeye"
    assert not any(fetch["authorization"] for fetch in notices["fetches"] + ours["fetches"])
    assert calls(emulator) == {}
