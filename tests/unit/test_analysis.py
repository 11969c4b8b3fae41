"""The document analysis: linear in the document, whatever the expansion; exact facts."""

from __future__ import annotations

from functools import cache

import pytest
from graphql import GraphQLSchema, parse

from gateway.loaders.limits import Limits
from gateway.loaders.shape import NetworkShape
from gateway.schema.analysis import (
    AmbiguousOperation,
    AnalysisBudgetExceeded,
    DocumentShape,
    Estimate,
)
from gateway.schema.build import build_schema


@cache
def schema() -> GraphQLSchema:
    return build_schema().graphql_schema


def shape_of(text: str, operation: str | None = None) -> DocumentShape:
    return DocumentShape.of(schema(), parse(text), operation)


def explosion(levels: int, on: str, leaf: str) -> str:
    """`F0 { ...F1 ...F1 }`, `F1 { ...F2 ...F2 }` …: 2^levels leaves once expanded."""
    fragments = [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return "\n".join(fragments)


@pytest.mark.parametrize("levels", [10, 20, 30])
def test_a_fragment_explosion_is_analysed_in_linear_visits(levels: int) -> None:
    text = "{ locations { nodes { ...F0 } } }\n" + explosion(levels, "Location", "id name")
    shape = shape_of(text)
    # Every selection of the document is looked at a small, fixed number of times.
    assert shape.visits <= 6 * (2 * levels + 6)
    assert shape.depth == 2 and shape.root_fields == 1


def test_visits_grow_with_the_document_not_with_its_expansion() -> None:
    small = shape_of("{ ...F0 }\n" + explosion(10, "Query", "__typename")).visits
    large = shape_of("{ ...F0 }\n" + explosion(30, "Query", "__typename")).visits
    assert large <= 3 * small + 10  # 2^20 times the expansion, three times the visits


def branching(levels: int) -> str:
    """Distinct response keys at every level: the merged tree really is exponential."""
    fragments = [
        f"fragment L{i} on Location {{ a: stations {{ location {{ ...L{i + 1} }} }}"
        f" b: stations {{ location {{ ...L{i + 1} }} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment L{levels} on Location {{ id }}")
    return "{ locations { nodes { ...L0 } } }\n" + "\n".join(fragments)


def test_a_branching_explosion_is_analysed_and_priced_in_linear_visits() -> None:
    shapes = {levels: shape_of(branching(levels)) for levels in (10, 20)}
    for levels, shape in shapes.items():
        Estimate(shape, {}, Limits(), NetworkShape()).total()
        assert shape.visits <= 12 * (6 * levels + 4)
    assert shapes[20].depth == 2 + 2 * 20  # deep, and so refused by the depth limit


def test_analysis_past_its_visit_budget_is_refused() -> None:
    document = parse(branching(5))
    with pytest.raises(AnalysisBudgetExceeded):
        DocumentShape.of(schema(), document, None, visit_budget_per_node=1, min_visit_budget=0)


def test_depth_aliases_and_root_fields_are_counted_as_executed() -> None:
    shape = shape_of(
        """fragment S on Station { x: name evses { status } }
        { a: locations { nodes { stations { ...S ...S } } }
          a: locations { nodes { id } }
          b: networkSummary { stationCount } }"""
    )
    assert shape.depth == 4  # locations > nodes > stations > evses > status
    assert shape.aliases == 4  # a, a, b and x, each written once
    assert shape.root_fields == 2  # `a` twice with one response key executes once


def test_several_operations_need_a_name() -> None:
    text = "query A { __typename } query B { __typename }"
    with pytest.raises(AmbiguousOperation):
        shape_of(text)
    with pytest.raises(AmbiguousOperation):
        shape_of(text, "C")
    assert shape_of(text, "B").operation.name.value == "B"  # type: ignore[union-attr]


def estimate(text: str, variables: dict[str, object] | None = None, **shape: int) -> int:
    document = shape_of(text)
    return Estimate(document, variables or {}, Limits(page_size=10), NetworkShape(**shape)).total()


def test_the_estimate_reads_first_from_variables_and_defaults() -> None:
    text = "query($n: Int = 30) { transactions(first: $n) { nodes { txId } } }"
    assert estimate(text) == 3
    assert estimate(text, {"n": 95}) == 10
    assert estimate("{ transactions(first: 0) { nodes { txId } } }") == 0


def test_shared_sources_are_charged_once_per_set_and_request() -> None:
    both = "{ locations(first: 20) { nodes { stations { stationId } evses { status } } } }"
    one = "{ locations(first: 20) { nodes { stations { stationId } } } }"
    assert estimate(both, locations=20) == estimate(one, locations=20) == 1 + 2
    twice = "{ a: locations { nodes { id } } b: locations(first: 2) { nodes { name } } }"
    assert estimate(twice) == 1


def test_nested_lists_use_the_seen_sizes_of_the_network() -> None:
    text = """{ locations(first: 10) { nodes { stations {
        evses { currentTransaction { txId } } } } } }"""
    small = estimate(text, locations=10, stations_per_location=5)
    large = estimate(text, locations=10, stations_per_location=50)
    assert small == 1 + 1 + 1  # list, status pages, one GET /stations for 50 stations
    assert large == 1 + 1 + 5  # 500 stations: five GET /stations batches


def test_too_many_entities_are_refused() -> None:
    text = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id } } }"
    document = shape_of(text)
    reps = [{"__typename": "Location", "id": str(i)} for i in range(101)]
    with pytest.raises(Exception, match="entity representations"):
        Estimate(document, {"r": reps}, Limits(), NetworkShape(), max_entities=100).total()


def test_a_cached_document_is_never_refused_for_having_been_estimated_often() -> None:
    # The shape is cached and shared by every request sending the document; each
    # estimate counts its own visits, so the thousandth request prices like the first.
    shape = DocumentShape.of(
        schema(), parse("{ locations { nodes { name } } }"), None, min_visit_budget=0
    )
    first = Estimate(shape, {}, Limits(), NetworkShape()).total()
    for _ in range(shape.work.budget + 1):
        assert Estimate(shape, {}, Limits(), NetworkShape()).total() == first
