"""The upstream-call estimate: what each query shape is charged, before any call is made.

Figures follow the model in `gateway/schema/cost.py`: a paged list costs
⌈first / PAGE_SIZE_HINT⌉ calls per parent, or MAX_FILTERED_PAGES when the gateway filters
its rows; batched relations one call per 100 parents; `locations` one call in all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, get_operation_ast, parse

from gateway.errors import QueryTooComplex
from gateway.schema.build import build_schema
from gateway.schema.cost import Estimate, UpstreamCostLimiter
from gateway.upstream.contract import MAX_FILTERED_PAGES, PAGE_SIZE_HINT

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
LIMIT = 500  # the default `max_upstream_cost`
PAGES_OF_200 = -(-200 // PAGE_SIZE_HINT)  # ⌈200 / hint⌉


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def cost(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None
    return Estimate(schema, document, variables or {}).cost(operation, root)


def test_the_constants_are_the_planning_figures() -> None:
    assert PAGE_SIZE_HINT == 50
    assert MAX_FILTERED_PAGES == 10
    assert PAGES_OF_200 == 4


# --- the reviewer's table -------------------------------------------------------------------


def test_a_root_connection_costs_its_upstream_pages(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ transactions(first: 200) { nodes { txId } } }") == PAGES_OF_200


def test_a_nested_connection_costs_its_pages_per_parent(schema: GraphQLSchema) -> None:
    query = "{ locations(first: 30) { nodes { transactions(first: 200) { nodes { txId } } } } }"
    assert cost(schema, query) == 1 + 30 * PAGES_OF_200  # 121


VARIABLE_DEFAULTS = """query($f: Int = 200) {
  locations(first: $f) { nodes { transactions(first: $f) { nodes { txId } } } }
}"""


def test_a_variable_left_out_takes_the_operations_default(schema: GraphQLSchema) -> None:
    assert cost(schema, VARIABLE_DEFAULTS) == 1 + 200 * PAGES_OF_200  # 801
    with pytest.raises(QueryTooComplex):
        check(schema, VARIABLE_DEFAULTS)


def test_a_variable_sent_wins_over_its_default(schema: GraphQLSchema) -> None:
    assert cost(schema, VARIABLE_DEFAULTS, {"f": 30}) == 1 + 30 * 1  # ⌈30 / 50⌉ each
    assert cost(schema, VARIABLE_DEFAULTS, {"f": 0}) == 1


def test_station_hardware_errors_cost_per_location_not_per_station(
    schema: GraphQLSchema,
) -> None:
    query = """{ locations(first: 50) { nodes { stations {
                   hardwareErrors(first: 5) { nodes { alert { id } } } } } } }"""
    # locations + one status call for 50 locations + each location's filtered walk.
    assert cost(schema, query) == 1 + 1 + 50 * MAX_FILTERED_PAGES  # 502
    fewer = query.replace("first: 50", "first: 49")
    assert cost(schema, fewer) == 1 + 1 + 49 * MAX_FILTERED_PAGES  # 492: under the limit
    one = """query($id: ID!) { location(id: $id) { stations {
               hardwareErrors(first: 100) { nodes { alert { id } } } } } }"""
    assert cost(schema, one, {"id": "x"}) == 1 + 1 + MAX_FILTERED_PAGES


ENTITIES = """query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Location { id transactions(first: 100) { nodes { txId } } }
    ... on Station { stationId model }
    ... on Evse { evseId transactions(first: 5) { nodes { txId } } }
  }
}"""


def representations(locations: int, stations: int, evses: int) -> list[dict[str, str]]:
    return (
        [{"__typename": "Location", "id": f"l{i}"} for i in range(locations)]
        + [{"__typename": "Station", "stationId": f"s{i}"} for i in range(stations)]
        + [{"__typename": "Evse", "stationId": "s0", "evseId": f"{i}"} for i in range(evses)]
    )


def test_a_union_members_fragment_counts_only_for_that_member(schema: GraphQLSchema) -> None:
    variables = {"representations": representations(12, 10, 3)}
    assert cost(schema, ENTITIES, variables) == (
        1  # the entities' own batched lookups
        + 12 * 2  # Location.transactions(first: 100): two pages per location
        + 1  # Station inventory (`model`): charged once under the root, as before
        + 3 * MAX_FILTERED_PAGES  # Evse.transactions: the station's list, filtered
    )
    only_locations = {"representations": representations(12, 0, 0)}
    assert cost(schema, ENTITIES, only_locations) == 1 + 12 * 2


def test_named_fragments_on_union_members_count_only_for_their_member(
    schema: GraphQLSchema,
) -> None:
    query = """query($representations: [_Any!]!) {
      _entities(representations: $representations) { ...L ...S }
    }
    fragment L on Location { transactions(first: 50) { nodes { txId } } }
    fragment S on Station { hardwareErrors(first: 5) { nodes { alert { id } } } }"""
    variables = {"representations": representations(2, 3, 0)}
    # Entity stations need not share a location: each walks its own location's pages.
    assert cost(schema, query, variables) == 1 + 2 * 1 + 3 * MAX_FILTERED_PAGES


def test_representations_without_typenames_count_for_every_member(
    schema: GraphQLSchema,
) -> None:
    variables = {"representations": [{"id": "a"}, {"id": "b"}]}
    assert cost(schema, ENTITIES, variables) == 1 + 2 * 2 + 1 + 2 * MAX_FILTERED_PAGES


# --- the README's examples ------------------------------------------------------------------


def test_the_readme_has_its_three_examples() -> None:
    assert len(EXAMPLES) == 3


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        # summary (20 status pages + power) + locations + power + status + live station
        # fields + EVSEs + ⌈400 EVSEs / 100⌉ current transactions
        (0, 21 + 1 + 1 + 1 + 1 + 1 + 4),
        (1, 1 + 1),  # one transactions page + the locations of 20 rows
        (2, 1 + 5 + 1 + 5 + 1),  # sessions page, 5 EVSE lookups, stations, inventory, sites
    ],
    ids=["Dashboard", "FailedSessions", "Problems"],
)
def test_readme_examples_stay_well_under_the_limit(
    schema: GraphQLSchema, example: int, expected: int
) -> None:
    assert cost(schema, EXAMPLES[example]) == expected
    assert expected < LIMIT // 10
    check(schema, EXAMPLES[example])


# --- more shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "pages"),
    [(0, 0), (1, 1), (PAGE_SIZE_HINT, 1), (PAGE_SIZE_HINT + 1, 2), (200, PAGES_OF_200)],
)
def test_pages_round_up_and_an_empty_page_reads_none(
    schema: GraphQLSchema, first: int, pages: int
) -> None:
    query = f"{{ problematicSessions(first: {first}) {{ nodes {{ alert }} }} }}"
    assert cost(schema, query) == pages


def test_first_left_out_takes_the_schema_default(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ transactions { nodes { txId } } }") == 1  # first: 50
    query = "{ locations(first: 4) { nodes { hardwareErrors { nodes { active } } } } }"
    assert cost(schema, query) == 1 + 4 * 1


@pytest.mark.parametrize(
    ("filter", "pages"),
    [
        ("", PAGES_OF_200),
        ('filter: { locationIds: ["a"] }', PAGES_OF_200),  # the upstream filters those
        ("filter: { activeOnly: false }", PAGES_OF_200),
        ("filter: { stationIds: [] severities: [] }", PAGES_OF_200),
        ("filter: null", PAGES_OF_200),
        ('filter: { stationIds: ["s"] }', MAX_FILTERED_PAGES),
        ('filter: { severities: ["critical"] }', MAX_FILTERED_PAGES),
        ("filter: { activeOnly: true }", MAX_FILTERED_PAGES),
    ],
)
def test_hardware_errors_filtered_by_the_gateway_cost_the_page_budget(
    schema: GraphQLSchema, filter: str, pages: int
) -> None:
    query = f"{{ hardwareErrors(first: 200 {filter}) {{ nodes {{ active }} }} }}"
    assert cost(schema, query) == pages


def test_a_filter_through_variables_and_defaults_is_seen(schema: GraphQLSchema) -> None:
    whole = """query($f: HardwareErrorFilter) {
                 hardwareErrors(first: 10, filter: $f) { nodes { active } } }"""
    assert cost(schema, whole) == 1
    assert cost(schema, whole, {"f": {"activeOnly": True}}) == MAX_FILTERED_PAGES
    assert cost(schema, whole, {"f": {"activeOnly": False, "locationIds": ["a"]}}) == 1
    field = """query($active: Boolean! = true) {
                 hardwareErrors(first: 10, filter: { activeOnly: $active }) {
                   nodes { active } } }"""
    assert cost(schema, field) == MAX_FILTERED_PAGES
    assert cost(schema, field, {"active": False}) == 1


def test_evse_transactions_are_always_filtered_per_evse(schema: GraphQLSchema) -> None:
    query = """{ evse(stationId: "s", evseId: "1") {
                   transactions(first: 1) { nodes { txId } } } }"""
    assert cost(schema, query) == 1 + MAX_FILTERED_PAGES
    under_stations = """{ location(id: "x") { stations { evses {
                           transactions(first: 1) { nodes { txId } } } } } }"""
    # location + statuses for stations and their EVSEs + 10 stations of 4 EVSEs each.
    assert cost(schema, under_stations) == 1 + 1 + 1 + 40 * MAX_FILTERED_PAGES


def test_a_station_by_id_walks_its_locations_error_pages(schema: GraphQLSchema) -> None:
    query = """{ station(id: "s") { hardwareErrors(first: 5) { nodes { active } } } }"""
    assert cost(schema, query) == 1 + MAX_FILTERED_PAGES


def test_links_below_a_paged_list_multiply_by_its_first(schema: GraphQLSchema) -> None:
    query = "{ transactions(first: 120) { nodes { evse { evseId } location { id } } } }"
    # 3 pages + one EVSE lookup per session + ⌈120 / 100⌉ location batches.
    assert cost(schema, query) == 3 + 120 + 2


def test_fragments_on_the_root_and_on_the_own_type_count(schema: GraphQLSchema) -> None:
    query = """{ ...Root }
    fragment Root on Query { locations(first: 2) { nodes { ... on Location { ...Tx } } } }
    fragment Tx on Location { transactions(first: 60) { nodes { txId } } }"""
    assert cost(schema, query) == 1 + 2 * 2


def test_the_summary_and_inventory_keep_their_charges(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ networkSummary { stationCount } }") == 21
    query = "{ locations(first: 7) { nodes { stations { model name } } } }"
    assert cost(schema, query) == 1 + 1 + 7  # inventory: one call per location


def test_the_hostile_nesting_is_refused(schema: GraphQLSchema) -> None:
    query = """{ locations(first: 200) { nodes { stations { evses {
                   transactions(first: 200) { nodes { txId evse { evseId } } } } } } } }"""
    with pytest.raises(QueryTooComplex, match="upstream calls"):
        check(schema, query)


def check(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> None:
    limiter = UpstreamCostLimiter(max_cost=LIMIT, max_root_fields=20)
    limiter._check(schema, parse(query), None, variables)
