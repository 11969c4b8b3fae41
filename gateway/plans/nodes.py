"""What a compiled plan is made of: one `FieldPlan` per response key, a `Shape` per type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLLeafType


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar or an enum: completed by the type's own `coerce_output_value`."""

    type: GraphQLLeafType


@dataclass(slots=True)
class Object:
    """An object type and the fields selected on it, in response order."""

    name: str
    fields: list[FieldPlan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Shape
    item_non_null: bool


Shape = Leaf | Object | ListOf


@dataclass(slots=True)
class FieldPlan:
    """One response key of an object: how to read it, and what it completes to."""

    key: str  # the response key (alias or name)
    name: str
    parent: str  # the parent type, for error messages
    nodes: list[FieldNode]  # the merged field nodes, for error locations
    definition: GraphQLField | None  # None for __typename
    shape: Shape | None  # None for __typename
    non_null: bool
    # How to read the field from a parent object, given this execution's arguments:
    # `read(parent, execution)`; it may answer a value or an awaitable.
    read: Callable[[Any, Any], Any]
    selected: frozenset[str] = frozenset()  # names selected below (resolvers look ahead)
    argument_key: int = -1  # index of this field's arguments in the execution's table


@dataclass(slots=True)
class Plan:
    """A query operation compiled once, run for every request that sends it."""

    root: Object
    fields_with_arguments: list[FieldPlan]
