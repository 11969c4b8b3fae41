"""Bad input gets a clear error, never a crash, a hang or an upstream call it did not need."""

from __future__ import annotations

import pytest

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator


async def assert_refused(
    gateway: Gateway, emulator: RunningEmulator, query: str, code: str
) -> dict[str, object]:
    emulator.state.reset()
    response = await gateway.post(query, token=emulator.token_a)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert sum(emulator.state.counters.values()) == 0
    return body  # type: ignore[no-any-return]


async def test_costly_nesting_is_refused_before_any_call(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    query = """{ locations(first: 200) { nodes { stations { evses {
                   transactions(first: 200) { nodes { txId evse { evseId } } } } } } } }"""
    body = await assert_refused(gateway, emulator, query, "QUERY_TOO_COMPLEX")
    assert "upstream calls" in body["errors"][0]["message"]  # type: ignore[index]


async def test_costly_nesting_through_variables_is_refused(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.reset()
    query = """query($n: Int!) { locations(first: $n) { nodes {
                 transactions(first: $n) { nodes { evse { evseId } } } } } }"""
    body = await gateway.query(query, {"n": 150}, token=emulator.token_a)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert sum(emulator.state.counters.values()) == 0


async def test_too_many_root_fields_are_refused(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    fields = " ".join(f'l{i}: location(id: "x{i}") {{ id }}' for i in range(25))
    # 25 aliases stay under the alias limit (30) but over the root-field limit (20).
    await assert_refused(gateway, emulator, f"{{ {fields} }}", "QUERY_TOO_COMPLEX")


async def test_alias_flood_is_refused(gateway: Gateway, emulator: RunningEmulator) -> None:
    fields = " ".join(f"a{i}: __typename" for i in range(40))
    await assert_refused(
        gateway,
        emulator,
        f"{{ locations {{ nodes {{ {fields} }} }} }}",
        "GRAPHQL_VALIDATION_FAILED",
    )


async def test_deep_nesting_is_refused(gateway: Gateway, emulator: RunningEmulator) -> None:
    deep = "location { " * 10 + "id" + " }" * 10
    query = f'{{ station(id: "s") {{ evses {{ station {{ evses {{ {deep} }} }} }} }} }}'
    await assert_refused(gateway, emulator, query, "GRAPHQL_VALIDATION_FAILED")


@pytest.mark.parametrize(
    "query",
    ["{ locations { nodes { id }", "query { nope }", "{ location { id } }", "}{"],
    ids=["unclosed", "unknown-field", "missing-argument", "garbage"],
)
async def test_malformed_documents_get_a_clear_error(
    gateway: Gateway, emulator: RunningEmulator, query: str
) -> None:
    emulator.state.reset()
    response = await gateway.post(query, token=emulator.token_a)
    assert response.status_code in (200, 400)
    body = response.json()
    assert body["errors"][0]["message"]
    assert "Traceback" not in response.text
    assert sum(emulator.state.counters.values()) == 0


@pytest.mark.parametrize("bad_id", ["", "..", "../stations", "a/b?c=d", "%2e%2e", "x" * 300])
async def test_odd_ids_are_null_not_an_escape(
    gateway: Gateway, emulator: RunningEmulator, bad_id: str
) -> None:
    emulator.state.reset()
    body = await gateway.query(
        "query($id: ID!) { location(id: $id) { id } }", {"id": bad_id}, token=emulator.token_a
    )
    assert body == {"data": {"location": None}}
    assert {operation for operation, _, _ in emulator.state.requests} <= {"getLocation"}


async def test_upstream_fault_nulls_only_its_branch(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getCurrentlyUsedPower", Fault(kind="status", status=500), times=None)
    body = await gateway.query(
        "{ locations(first: 3) { nodes { id name currentPower { currentPowerKw } } } }",
        token=emulator.token_a,
    )
    nodes = body["data"]["locations"]["nodes"]
    assert len(nodes) == 3 and all(node["name"] for node in nodes)
    assert all(node["currentPower"] is None for node in nodes)
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"UPSTREAM_UNAVAILABLE"}
    paths = [error["path"] for error in body["errors"]]
    assert ["locations", "nodes", 0, "currentPower"] in paths


async def test_upstream_garbage_is_a_protocol_error_without_the_body(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    emulator.state.inject("getLocations", Fault(kind="malformed"), times=None)
    body = await gateway.query("{ locations { nodes { id } } }", token=emulator.token_a)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_PROTOCOL_ERROR"
    assert emulator.token_a not in error["message"]


async def test_slow_upstream_hits_the_timeout_not_a_hang(emulator: RunningEmulator) -> None:
    import httpx

    from gateway.app import create_app
    from tests.gateway.conftest import gateway_settings
    from tests.support import serving

    settings = gateway_settings(emulator.url, upstream_timeout_s=0.3, upstream_retry_attempts=1)
    emulator.state.inject("getLocations", Fault(kind="delay", delay_ms=3000), times=None)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": "{ locations { nodes { id } } }"},
            headers={"Authorization": f"Bearer {emulator.token_a}"},
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
