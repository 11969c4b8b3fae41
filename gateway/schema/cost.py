"""Reject documents that would cost too many upstream calls, before making any.

The estimate walks the operation with its variables and counts, per field, the upstream
calls the loaders would make: a batched relation costs one call per 100 parents, a
per-parent relation (a nested connection, the station inventory, an EVSE lookup by
transaction) one call per parent. Parent counts multiply down the tree: a connection
contributes its `first`, a plain list a typical size. It is an upper-bound estimate
for the shapes the loaders know, not an exact count; the tests pin the exact counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from math import ceil
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from gateway.errors import QueryTooComplex
from gateway.schema.station_fields import INVENTORY_FIELDS
from gateway.upstream import contract

BATCH = contract.MAX_IDS_PER_CALL

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
# Typical sizes of plain lists, for the parent counts below them.
LIST_SIZE: Mapping[str, int] = {
    "Location.stations": 10,
    "Location.evses": 40,
    "Station.evses": 4,
    "NetworkPower.locations": 100,
}
WHOLE_NETWORK_PAGES = 20  # networkSummary walks every status page


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
        return self._cost(root, operation.selection_set, parents=1, grandparents=1)

    def fields(
        self, parent: GraphQLObjectType, selections: SelectionSetNode
    ) -> Iterator[tuple[GraphQLObjectType, FieldNode]]:
        """Field nodes of a selection set, fragments flattened, with their parent type."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield parent, selection
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition.name.value, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else parent.name
                )
                inner = selection.selection_set
            else:
                continue
            target = self.schema.get_type(condition)
            yield from self.fields(
                target if isinstance(target, GraphQLObjectType) else parent, inner
            )

    def _cost(
        self,
        parent: GraphQLObjectType,
        selections: SelectionSetNode,
        *,
        parents: int,
        grandparents: int,
    ) -> int:
        total = 0
        inventory = False
        for owner, node in self.fields(parent, selections):
            name = node.name.value
            definition = owner.fields.get(name)
            if definition is None:  # __typename and other meta fields
                continue
            key = f"{owner.name}.{name}"
            if key in PER_PARENT:
                total += parents
            elif key in BATCHED:
                total += ceil(parents / BATCH)
            elif key == "Query.networkSummary":
                total += WHOLE_NETWORK_PAGES + 1
            if owner.name == "Station" and name in INVENTORY_FIELDS:
                inventory = True
            if node.selection_set is None:
                continue
            children = parents * self._fan_out(key, owner, node)
            child_type = get_named_type(definition.type)
            if isinstance(child_type, GraphQLObjectType):
                total += self._cost(
                    child_type, node.selection_set, parents=children, grandparents=parents
                )
            else:  # a union (`_entities`): each member's selections count
                for member in getattr(child_type, "types", ()):
                    total += self._cost(
                        member, node.selection_set, parents=children, grandparents=parents
                    )
        if inventory:
            total += grandparents if parent.name == "Station" else parents
        return total

    def _fan_out(self, key: str, owner: GraphQLObjectType, node: FieldNode) -> int:
        if key in LIST_SIZE:
            return LIST_SIZE[key]
        definition = owner.fields[node.name.value]
        if "first" in definition.args:
            first = self._argument(node, "first", definition.args["first"].default_value)
            return max(int(first), 0) if isinstance(first, int) else 50
        if key == "Query._entities":
            representations = self._argument(node, "representations", [])
            return len(representations) if isinstance(representations, list) else 1
        return 1

    def _argument(self, node: FieldNode, name: str, default: Any) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return _value(argument.value, self.variables, default)
        return default


def _value(node: Any, variables: Mapping[str, Any], default: Any) -> Any:
    kind = getattr(node, "kind", "")
    if kind == "variable":
        return variables.get(node.name.value, default)
    if kind == "int_value":
        return int(node.value)
    if kind == "list_value":
        return [_value(item, variables, None) for item in node.values]
    return default
