"""The first slice: `location(id:)` and `locations` over the emulator's data."""

from __future__ import annotations

from typing import Any

from tests.gateway.conftest import Gateway

LOCATION_FIELDS = """
  id locationId name address postalCode city state country countryCode lat lng
  bounds { northWest { lat lng } southEast { lat lng } }
  positionEstimate { lat lng confidence lastUpdated }
  roamingPoolId labels { value }
  tenantIdCPO tenantIdEMSP tenantIdMaintenance tenantIds
"""


async def test_location_returns_the_emulator_row(gateway: Gateway, emulator: Any) -> None:
    row = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    body = await gateway.query(
        f"query($id: ID!) {{ location(id: $id) {{ {LOCATION_FIELDS} }} }}",
        {"id": row.id},
        token=emulator.token_a,
    )
    assert "errors" not in body
    location = body["data"]["location"]
    assert location["id"] == row.id
    assert location["name"] == row.name
    assert location["city"] == row.city
    assert location["lat"] == row.lat
    assert emulator.tenant_a in location["tenantIds"]
    assert emulator.state.counters["getLocation"] == 1


async def test_unknown_location_is_null_without_error(gateway: Gateway, emulator: Any) -> None:
    body = await gateway.query(
        '{ location(id: "no-such-location") { id } }', token=emulator.token_a
    )
    assert body == {"data": {"location": None}}


async def test_locations_pages_cover_every_visible_row_once(
    gateway: Gateway, emulator: Any
) -> None:
    expected = {row.id for row in emulator.state.network.visible_locations(emulator.tenant_a)}
    seen: list[str] = []
    after = None
    while True:
        body = await gateway.query(
            "query($after: String) { locations(first: 7, after: $after) {"
            " edges { cursor node { id } } pageInfo { hasNextPage endCursor } nodes { id } } }",
            {"after": after},
            token=emulator.token_a,
        )
        connection = body["data"]["locations"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        assert [node["id"] for node in connection["nodes"]] == [
            edge["node"]["id"] for edge in connection["edges"]
        ]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))


async def test_missing_token_is_unauthenticated_without_upstream_call(
    gateway: Gateway, emulator: Any
) -> None:
    emulator.state.reset()
    body = await gateway.query("{ locations { nodes { id } } }")
    assert body["data"] == {"locations": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert sum(emulator.state.counters.values()) == 0


async def test_token_is_forwarded_and_tenants_stay_apart(gateway: Gateway, emulator: Any) -> None:
    query = "{ locations(first: 200) { nodes { id tenantIds labels { value } } } }"
    body_a = await gateway.query(query, token=emulator.token_a)
    body_b = await gateway.query(query, token=emulator.token_b)
    ids_a = {node["id"] for node in body_a["data"]["locations"]["nodes"]}
    ids_b = {node["id"] for node in body_b["data"]["locations"]["nodes"]}
    assert ids_a == {row.id for row in emulator.state.network.visible_locations(emulator.tenant_a)}
    assert ids_b == {row.id for row in emulator.state.network.visible_locations(emulator.tenant_b)}
    for node in body_b["data"]["locations"]["nodes"]:
        assert emulator.tenant_b in node["tenantIds"]


async def test_rejected_upstream_token_is_unauthenticated(gateway: Gateway) -> None:
    body = await gateway.query("{ locations { nodes { id } } }", token="not-a-real-token")
    assert body["data"] == {"locations": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_first_above_the_cap_is_bad_user_input(gateway: Gateway, emulator: Any) -> None:
    emulator.state.reset()
    body = await gateway.query("{ locations(first: 201) { nodes { id } } }", token=emulator.token_a)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sum(emulator.state.counters.values()) == 0
