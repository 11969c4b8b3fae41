"""Reject documents that would cost too many upstream calls, before making any.

The estimate walks the operation with its variables (a variable the request leaves out
takes its default from the operation) and counts, per field, the upstream calls the
loaders would make: a batched relation costs one call per 100 parents, a per-parent
relation (a nested connection, the station inventory, an EVSE lookup by transaction) one
call per parent. A list the upstream pages costs one call per upstream page the GraphQL
page may read: ⌈first / PAGE_SIZE_HINT⌉, or MAX_FILTERED_PAGES when the gateway filters
its rows after the call. Parent counts multiply down the tree: a connection contributes
its `first`, a plain list a typical size, and a union member only the representations of
its own type. It is an upper-bound estimate for the shapes the loaders know, not an exact
count; the tests pin the exact counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from math import ceil
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from gateway.errors import QueryTooComplex
from gateway.loaders import limits
from gateway.schema.sources import Source
from gateway.schema.station import STATION_SOURCES

BATCH = limits.BATCH_SIZE

# Relations that the loaders batch: one call per BATCH parents.
BATCHED = frozenset(
    {
        "Query.location",
        "Query.locations",
        "Query.station",
        "Query.evse",
        "Query.networkPower",
        "Query.transactions",
        "Query.problematicSessions",
        "Query.hardwareErrors",
        "Query._entities",
        "Location.stations",
        "Location.evses",
        "Location.currentPower",
        "Station.location",
        "Station.evses",
        "Station.access",
        "Station.powerModulePowerSumKw",
        "Evse.station",
        "Evse.location",
        "Evse.currentTransaction",
        "Transaction.location",
        "ProblematicSession.location",
        "HardwareError.station",
        "HardwareError.location",
        "LocationPower.location",
        "CreateLocationPayload.location",
        "UpdateLocationPayload.location",
        "Mutation.createLocation",
        "Mutation.updateLocation",
    }
)
# Relations the contract offers no batch for: one call per parent.
PER_PARENT = frozenset(
    {
        "Location.transactions",
        "Location.problematicSessions",
        "Location.hardwareErrors",
        "Station.hardwareErrors",
        "Evse.transactions",
        "Transaction.evse",
        "ProblematicSession.evse",
    }
)
# Connections read from upstream pages: the calls above are per upstream page, not per list.
# (`locations` is not among them: the gateway slices the whole list of one call.)
PAGED = frozenset(
    {
        "Query.transactions",
        "Query.problematicSessions",
        "Query.hardwareErrors",
        "Location.transactions",
        "Location.problematicSessions",
        "Location.hardwareErrors",
        "Station.hardwareErrors",
        "Evse.transactions",
    }
)
# Paged lists whose rows the gateway always filters after the call: a page may need up to
# MAX_FILTERED_PAGES upstream pages, however small `first` is. An EVSE's sessions come from
# its station's list; a station's errors from its location's list.
ALWAYS_FILTERED = frozenset({"Evse.transactions", "Station.hardwareErrors"})
# Hardware-error lists: the filter fields that the gateway applies itself.
HARDWARE_ERRORS = frozenset(
    {"Query.hardwareErrors", "Location.hardwareErrors", "Station.hardwareErrors"}
)
GATEWAY_FILTERS = ("stationIds", "severities", "activeOnly")
# Paged lists that stations of one location share: the pages are the location's, so the
# calls are per parent of the stations (their location), not per station.
SHARED_BY_LOCATION = frozenset({"Station.hardwareErrors"})
# Typical sizes of plain lists, for the parent counts below them.
LIST_SIZE: Mapping[str, int] = {
    "Location.stations": 10,
    "Location.evses": 40,
    "Station.evses": 4,
    "NetworkPower.locations": 100,
}
WHOLE_NETWORK_PAGES = 20  # networkSummary walks every status page
DEFAULT_FIRST = 50  # when `first` cannot be read from the document


class UpstreamCostLimiter(SchemaExtension):
    """Refuses an operation whose estimate exceeds `max_cost` or has too many root fields."""

    def __init__(self, *, max_cost: int, max_root_fields: int) -> None:
        self.max_cost = max_cost
        self.max_root_fields = max_root_fields

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            try:
                self._check(
                    context.schema._schema, document, context.operation_name, context.variables
                )
            except QueryTooComplex as refused:
                error = GraphQLError(refused.message, extensions=refused.extensions())
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield

    def _check(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> None:
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return
        estimate = Estimate(schema, document, variables or {})
        root = (
            schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
        )
        assert root is not None
        roots = sum(1 for _ in estimate.fields(root, operation.selection_set))
        if roots > self.max_root_fields:
            raise QueryTooComplex(
                f"The operation has {roots} root fields; the limit is {self.max_root_fields}."
            )
        cost = estimate.cost(operation, root)
        if cost > self.max_cost:
            raise QueryTooComplex(
                f"The operation could cost about {cost} upstream calls; the limit is "
                f"{self.max_cost}. Ask for fewer items per page or fewer nested lists."
            )


@dataclass(frozen=True, slots=True)
class _Level:
    """Where a selection set sits: how many parents it runs for, and how they came."""

    parents: int
    grandparents: int
    via: str  # the field that produced the parents, "Type.field"


class Estimate:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def cost(self, operation: OperationDefinitionNode, root: GraphQLObjectType) -> int:
        scope = _defaults(operation)
        scope.update(self.variables)
        return self._cost(root, operation.selection_set, _Level(1, 1, ""), scope)

    def fields(
        self, parent: GraphQLObjectType, selections: SelectionSetNode
    ) -> Iterator[tuple[GraphQLObjectType, FieldNode]]:
        """Field nodes of a selection set, fragments flattened, with their parent type.

        A fragment counts only where its type condition holds for `parent`: under a union,
        `... on Station` selects nothing for a Location.
        """
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield parent, selection
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition: str | None = fragment.type_condition.name.value
                inner = fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                named = selection.type_condition
                condition, inner = (named.name.value if named else None), selection.selection_set
            else:
                continue
            if condition is None or self._applies(condition, parent):
                yield from self.fields(parent, inner)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        if condition == parent.name:
            return True
        target = self.schema.get_type(condition)
        if isinstance(target, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(target, parent)
        return False

    def _cost(
        self,
        parent: GraphQLObjectType,
        selections: SelectionSetNode,
        level: _Level,
        scope: Mapping[str, Any],
    ) -> int:
        total = 0
        inventory = False
        for owner, node in self.fields(parent, selections):
            name = node.name.value
            definition = owner.fields.get(name)
            if definition is None:  # __typename and other meta fields
                continue
            key = f"{owner.name}.{name}"
            total += self._calls(key, owner, node, level, scope)
            if owner.name == "Station" and name in STATION_SOURCES.of(Source.INVENTORY):
                inventory = True
            if node.selection_set is None:
                continue
            child_type = get_named_type(definition.type)
            if isinstance(child_type, GraphQLObjectType):
                children = level.parents * self._fan_out(key, owner, node, scope)
                below = _Level(children, level.parents, key)
                total += self._cost(child_type, node.selection_set, below, scope)
            elif isinstance(child_type, GraphQLUnionType):  # `_entities`
                for member, count in self._members(child_type, key, node, scope):
                    below = _Level(level.parents * count, level.parents, key)
                    total += self._cost(member, node.selection_set, below, scope)
        if inventory:  # one call per location: stations of one parent share it
            shared = min(level.parents, level.grandparents)
            total += shared if parent.name == "Station" else level.parents
        return total

    def _calls(
        self,
        key: str,
        owner: GraphQLObjectType,
        node: FieldNode,
        level: _Level,
        scope: Mapping[str, Any],
    ) -> int:
        """The calls one field makes for all its parents."""
        if key in PAGED:
            pages = self._pages(key, owner, node, scope)
            if key in SHARED_BY_LOCATION:
                # Stations listed under one parent share its pages. Entities stand alone.
                shared = level.via != "Query._entities"
                return pages * (min(level.parents, level.grandparents) if shared else level.parents)
            if key in PER_PARENT:
                return pages * level.parents
            return pages * ceil(level.parents / BATCH)
        if key in PER_PARENT:
            return level.parents
        if key in BATCHED:
            return ceil(level.parents / BATCH)
        if key == "Query.networkSummary":
            return WHOLE_NETWORK_PAGES + 1
        return 0

    def _pages(
        self, key: str, owner: GraphQLObjectType, node: FieldNode, scope: Mapping[str, Any]
    ) -> int:
        """Upstream pages one parent's GraphQL page of a paged list may read."""
        first = self._first(owner, node, scope)
        if first <= 0:
            return 0
        if key in ALWAYS_FILTERED or (key in HARDWARE_ERRORS and self._filters_rows(node, scope)):
            return limits.MAX_FILTERED_PAGES
        return ceil(first / limits.PAGE_SIZE_HINT)

    def _filters_rows(self, node: FieldNode, scope: Mapping[str, Any]) -> bool:
        """Whether a hardware-error filter has a condition that the gateway applies."""
        given = self._argument(node, "filter", None, scope)
        if not isinstance(given, Mapping):
            return False
        return any(given.get(name) not in (None, Undefined, False, []) for name in GATEWAY_FILTERS)

    def _fan_out(
        self, key: str, owner: GraphQLObjectType, node: FieldNode, scope: Mapping[str, Any]
    ) -> int:
        if key in LIST_SIZE:
            return LIST_SIZE[key]
        if "first" in owner.fields[node.name.value].args:
            return max(self._first(owner, node, scope), 0)
        return 1

    def _members(
        self, union: GraphQLUnionType, key: str, node: FieldNode, scope: Mapping[str, Any]
    ) -> Iterator[tuple[GraphQLObjectType, int]]:
        """Each member type with how many of the list's items may be of that type."""
        if key != "Query._entities":
            for member in union.types:
                yield member, 1
            return
        representations = self._argument(node, "representations", [], scope)
        if not isinstance(representations, list):
            representations = [representations]
        names = [r.get("__typename") if isinstance(r, Mapping) else None for r in representations]
        typed = all(isinstance(name, str) for name in names)
        counts = Counter(names)
        for member in union.types:
            yield member, counts[member.name] if typed else len(representations)

    def _first(self, owner: GraphQLObjectType, node: FieldNode, scope: Mapping[str, Any]) -> int:
        default = owner.fields[node.name.value].args["first"].default_value
        first = self._argument(node, "first", default, scope)
        return first if isinstance(first, int) else DEFAULT_FIRST

    @staticmethod
    def _argument(node: FieldNode, name: str, default: Any, scope: Mapping[str, Any]) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = value_from_ast_untyped(argument.value, dict(scope))
                return default if value is Undefined else value
        return default


def _defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The operation's variable defaults: what a variable the request leaves out means."""
    return {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
