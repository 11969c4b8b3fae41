"""Location writes: checked before any call, sent exactly once, failures typed."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

CREATE = """
mutation($input: CreateLocationInput!) {
  createLocation(input: $input) { id location { id name city countryCode lat lng tenantIds } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateLocationInput!) {
  updateLocation(id: $id, input: $input) { id location { id name postalCode address } }
}
"""
VALID = {
    "name": "Harbour Depot",
    "address": "Satamakatu 1",
    "postalCode": "00160",
    "city": "Helsinki",
    "countryCode": "FI",
    "lat": 60.1675,
    "lng": 24.9516,
    "bounds": {
        "northWest": {"lat": 60.17, "lng": 24.95},
        "southEast": {"lat": 60.16, "lng": 24.96},
    },
}


async def test_create_sends_once_and_only_the_creator_sees_the_row(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    body = await gateway.query(CREATE, {"input": VALID}, token=emulator.token_a)
    assert "errors" not in body, body.get("errors")
    payload = body["data"]["createLocation"]
    new_id = payload["id"]
    assert payload["location"]["name"] == "Harbour Depot"
    assert payload["location"]["tenantIds"] == [emulator.tenant_a]
    assert emulator.state.counters["postLocation"] == 1
    stored = emulator.state.network.location(new_id)
    assert stored is not None and stored.postal_code == "00160"
    assert stored.bounds == ((24.95, 60.17), (24.96, 60.16))

    query = "query($id: ID!) { location(id: $id) { id name } }"
    emulator.state.reset()
    mine = await gateway.query(query, {"id": new_id}, token=emulator.token_a)
    assert mine["data"]["location"] == {"id": new_id, "name": "Harbour Depot"}
    assert dict(emulator.state.counters) == {"getLocation": 1}
    emulator.state.reset()
    theirs = await gateway.query(query, {"id": new_id}, token=emulator.token_b)
    assert theirs == {"data": {"location": None}}
    assert dict(emulator.state.counters) == {"getLocation": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": 91.0}, "lat"),
        ({"lng": -180.5}, "lng"),
        ({"countryCode": "XX"}, "countryCode"),
        ({"countryCode": "fi"}, "countryCode"),
        ({"postalCode": "12345678901"}, "postalCode"),
        (
            {
                "bounds": {
                    "northWest": {"lat": 60.0, "lng": 24.0},
                    "southEast": {"lat": 61.0, "lng": 25.0},
                }
            },
            "bounds",
        ),
        (
            {
                "bounds": {
                    "northWest": {"lat": 95.0, "lng": 24.0},
                    "southEast": {"lat": 61.0, "lng": 25.0},
                }
            },
            "bounds.northWest.lat",
        ),
    ],
)
async def test_invalid_input_is_refused_before_any_call(
    gateway: Gateway, emulator: RunningEmulator, change: dict[str, Any], field: str
) -> None:
    emulator.state.reset()
    body = await gateway.query(CREATE, {"input": {**VALID, **change}}, token=emulator.token_a)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert field.split(".")[0] in error["message"]
    assert sum(emulator.state.counters.values()) == 0
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    body = await gateway.query(
        UPDATE, {"id": location.uid, "input": change}, token=emulator.token_a
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert sum(emulator.state.counters.values()) == 0


async def test_create_meeting_a_503_is_sent_once_and_reported(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    emulator.state.inject("postLocation", Fault(kind="status", status=503), times=1)
    before = len(emulator.state.network.locations)
    body = await gateway.query(CREATE, {"input": VALID}, token=emulator.token_a)
    assert body["data"] == {"createLocation": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert emulator.state.counters["postLocation"] == 1
    assert len(emulator.state.network.locations) == before


async def test_create_meeting_a_dropped_connection_is_not_retried(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    emulator.state.inject("postLocation", Fault(kind="drop"), times=1)
    body = await gateway.query(CREATE, {"input": VALID}, token=emulator.token_a)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert emulator.state.counters["postLocation"] == 1


async def test_update_changes_only_given_fields_and_null_clears(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    assert location.address is not None
    emulator.state.reset()
    body = await gateway.query(
        UPDATE,
        {"id": location.uid, "input": {"name": "Renamed", "postalCode": None}},
        token=emulator.token_a,
    )
    assert "errors" not in body, body.get("errors")
    assert body["data"]["updateLocation"]["location"] == {
        "id": location.uid,
        "name": "Renamed",
        "postalCode": None,
        "address": location.address,
    }
    assert emulator.state.counters["patchLocation"] == 1


async def test_update_meeting_a_503_is_sent_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    location = emulator.state.network.visible_locations(emulator.tenant_a)[0]
    emulator.state.reset()
    emulator.state.inject("patchLocation", Fault(kind="status", status=503), times=1)
    body = await gateway.query(
        UPDATE, {"id": location.uid, "input": {"name": "x"}}, token=emulator.token_a
    )
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert emulator.state.counters["patchLocation"] == 1


async def test_update_of_another_tenants_location_is_not_found(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    network = emulator.state.network
    b_only = [
        loc
        for loc in network.visible_locations(emulator.tenant_b)
        if emulator.tenant_a not in loc.tenancy.ids
    ]
    assert b_only
    body = await gateway.query(
        UPDATE, {"id": b_only[0].uid, "input": {"name": "hijack"}}, token=emulator.token_a
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert network.location(b_only[0].uid).name != "hijack"  # type: ignore[union-attr]


async def test_mutation_without_token_makes_no_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    body = await gateway.query(CREATE, {"input": VALID})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert sum(emulator.state.counters.values()) == 0


async def test_every_invalid_field_is_reported_at_once(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    bad = {**VALID, "countryCode": "Finland", "lat": 91.0, "postalCode": "0" * 11}
    body = await gateway.query(CREATE, {"input": bad}, token=emulator.token_a)
    [error] = body["errors"]
    extensions = error["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert [p["field"] for p in extensions["problems"]] == ["countryCode", "postalCode", "lat"]
    assert extensions["field"] == "countryCode"
    assert sum(emulator.state.counters.values()) == 0
