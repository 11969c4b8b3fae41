"""Differential testing is the contract of compiled plans: every query runs through the
plan and through graphql-core, and both answers must be the same JSON, the plan making
no more upstream calls (counted at the emulator) than graphql-core does.

The queries are the suite's own: the README examples, the priced shapes of the cost
tests, the hostile corpus, every upstream fault, pagination walks with their cursors,
and documents drawn over the schema by hypothesis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from gateway.app import create_app
from tests.gateway.conftest import gateway_settings
from tests.gateway.test_cost_bound import EXAMPLES, SHAPES
from tests.gateway.test_fault_matrix import KINDS, OPERATIONS
from tests.gateway.test_hostile_corpus import CASES
from tests.gateway.test_properties import IDS, documents
from tests.support import (
    DEFAULT_EMULATOR,
    RunningEmulator,
    SharedServer,
    mounted_emulator,
    serving,
)


@dataclass
class Pair:
    """The same gateway twice, one with plans, one running graphql-core only."""

    planned: str
    core: str
    http: httpx.AsyncClient
    emulator: RunningEmulator

    async def answers(
        self,
        query: str,
        variables: Any = None,
        *,
        token: str | None = None,
        before: Callable[[], None] | None = None,
    ) -> tuple[Any, Any]:
        results = []
        for url in (self.planned, self.core):
            self.emulator.state.reset()
            if before is not None:
                before()
            response = await self.http.post(
                f"{url}/graphql",
                json={"query": query, "variables": variables},
                headers={
                    "Authorization": f"Bearer {token or self.emulator.token_a}",
                    "X-Gateway-Cost": "1",
                },
            )
            calls = {op: n for op, n in self.emulator.state.counters.items() if n}
            results.append((response.status_code, response.json(), calls))
        return results[0], results[1]

    async def same(self, query: str, variables: Any = None, **options: Any) -> Any:
        (status, body, calls), (core_status, core_body, core_calls) = await self.answers(
            query, variables, **options
        )
        cost = body.get("extensions", {}).pop("cost", None)
        core_body.get("extensions", {}).pop("cost", None)
        for answer in (body, core_body):
            if answer.get("extensions") == {}:
                del answer["extensions"]
        assert (status, body) == (core_status, core_body)
        # Both paths batch per tick, and where a tick's batch ends depends on when the
        # upstream's answers arrive (two lookups of one view may share a call or not), so
        # exact counts differ with load on either side. What holds on both, whatever the
        # timing, is the bound priced before execution. Not where a field failed: the
        # request then ends and its pending calls are cancelled mid-flight.
        if "errors" not in body and cost is not None:
            for made in (calls, core_calls):
                assert sum(made.values()) <= cost["estimate"], (made, cost)
        return body


@contextlib.asynccontextmanager
async def pair_of(emulator: RunningEmulator, **overrides: Any) -> AsyncIterator[Pair]:
    base = replace(gateway_settings(emulator.url), **overrides)
    async with (
        serving(create_app(replace(base, compiled_plans=True))) as planned,
        serving(create_app(replace(base, compiled_plans=False))) as core,
        httpx.AsyncClient(timeout=60) as http,
    ):
        yield Pair(planned, core, http, emulator)


@pytest.fixture
async def pair(emulator: RunningEmulator) -> AsyncIterator[Pair]:
    async with pair_of(emulator) as both:
        yield both


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.name)
async def test_priced_shapes_answer_alike(pair: Pair, shape: Any) -> None:
    variables = shape.variables(pair.emulator) if callable(shape.variables) else shape.variables
    body = await pair.same(shape.query, variables)
    assert body.get("data")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda text: text.split("(")[0][:20])
async def test_readme_examples_answer_alike_for_every_tenant(pair: Pair, example: str) -> None:
    emulator = pair.emulator
    for token in (emulator.token_a, emulator.token_b, emulator.token_c):
        await pair.same(example, token=token)


@pytest.mark.parametrize("case", [c for c in CASES if c.query], ids=lambda case: case.name)
async def test_hostile_documents_answer_alike(pair: Pair, case: Any) -> None:
    await pair.same(case.query, case.variables)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
@pytest.mark.parametrize(
    "operation", [op for op in OPERATIONS if not op.write], ids=lambda op: op.id
)
async def test_faults_answer_alike(emulator: RunningEmulator, operation: Any, kind: Any) -> None:
    async with pair_of(
        emulator, upstream_timeout_s=0.5, upstream_circuit_failure_threshold=0
    ) as both:
        await both.same(
            operation.query,
            operation.variables(emulator),
            before=lambda: emulator.state.inject(operation.id, kind.fault, times=None),
        )


async def test_pagination_walks_answer_alike_page_by_page(pair: Pair) -> None:
    for query, connection in [
        (
            "query($a: String) { transactions(first: 7, after: $a) {"
            " edges { cursor node { txId status } } pageInfo { hasNextPage endCursor } } }",
            "transactions",
        ),
        (
            "query($a: String) { locations(first: 4, after: $a) {"
            " nodes { id name } pageInfo { hasNextPage endCursor } } }",
            "locations",
        ),
        (
            "query($a: String) { hardwareErrors(first: 3, after: $a,"
            " filter: {activeOnly: true}) { nodes { stationId }"
            " pageInfo { endCursor hasNextPage } } }",
            "hardwareErrors",
        ),
    ]:
        after = None
        for _ in range(4):
            body = await pair.same(query, {"a": after})
            page = body["data"][connection]["pageInfo"]
            if not page["hasNextPage"]:
                break
            after = page["endCursor"]


async def test_null_propagation_and_leaves_answer_alike(pair: Pair) -> None:
    emulator = pair.emulator
    station = emulator.state.network.visible_stations(emulator.tenant_a)[0]
    await pair.same(
        """query($s: ID!) { station(id: $s) { stationId name classification { access
             applicationTypes facilities } manufacturingInfo { deliveryDate extraOrders }
             evses { evseId type status maxPowerKw txStatus } location { bounds {
             northWest { lat lng } } positionEstimate { lastUpdated } } } }""",
        {"s": station.station_id},
    )
    await pair.same("{ transactions(first: 5) { nodes { txId startTime evIdentify { seqNo } } } }")
    await pair.same('{ location(id: "nope") { id } a: __typename b: __typename }')


async def test_directives_answer_alike(pair: Pair) -> None:
    query = """query($p: Boolean!, $s: Boolean!) { locations(first: 3) { nodes {
        id name @include(if: $p) currentPower @include(if: $p) { currentPowerKw }
        stations @skip(if: $s) { stationId } } } }"""
    for p in (True, False):
        for s in (True, False):
            await pair.same(query, {"p": p, "s": s})


async def test_variables_that_do_not_coerce_answer_alike(pair: Pair) -> None:
    await pair.same("query($n: Int!) { transactions(first: $n) { nodes { txId } } }", {"n": "x"})
    await pair.same(
        "query($f: TransactionFilter) { transactions(filter: $f) { nodes { txId } } }",
        {"f": {"technicalFailClassifications": ["NOPE"]}},
    )


@given(documents(IDS))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_drawn_documents_answer_alike(emulator_server: SharedServer, document: str) -> None:
    async def run() -> None:
        with mounted_emulator(emulator_server, DEFAULT_EMULATOR) as emulator:
            uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
            async with pair_of(emulator) as both:
                await both.same(document.replace('"1"', f'"{uid}"'))

    asyncio.run(run())


async def test_plans_compile_for_the_dashboard_and_fall_back_for_entities(
    emulator: RunningEmulator,
) -> None:
    app = create_app(gateway_settings(emulator.url))
    async with serving(app) as url, httpx.AsyncClient(timeout=60) as http:
        headers = {"Authorization": f"Bearer {emulator.token_a}"}
        entities = "{ _entities(representations: []) { __typename } }"
        for query in (EXAMPLES[0], EXAMPLES[0], entities):
            await http.post(f"{url}/graphql", json={"query": query}, headers=headers)
    plans = app.state.graphql.schema.execution_context_class.plans
    assert plans.compiled == 1  # the dashboard, compiled once for two requests
    assert plans.fallbacks == 1  # `_entities` (a union) runs on graphql-core
