"""One pass over a document, in time linear in its size, never in its expanded size.

`DocumentShape` is what a document asks for, variables aside: its operation, its depth,
aliases and root fields. `estimate` then prices the operation with its variables, field by
field, from the `Cost` each field declares (`gateway/schema/costs.py`).

Fragments are never expanded. Fields are collected per selection set as execution
collects them (a fragment spread twice in one set is read once, fields with one response
key are merged), and every result over a set of field nodes is memoized: the nodes of a
fragment are the same objects wherever it is spread, so a fragment is analysed once per
type and level, however often it is spread. `visits` counts the nodes looked at; a
document whose analysis would look at more than its budget is refused instead of analysed
(bounded work, even for documents built to defeat the memo).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    value_from_ast_untyped,
)

from gateway.errors import QueryTooComplex
from gateway.loaders.limits import Limits
from gateway.loaders.shape import NetworkShape
from gateway.schema.costs import COST, FREE, Charge, Cost, Level, batches, status_pages

DEFINITION = "strawberry-definition"  # where Strawberry links a GraphQL field to its own
Fields = dict[str, list[FieldNode]]  # response key -> the field nodes merged under it
FieldsKey = tuple[tuple[str, tuple[int, ...]], ...]


class AnalysisBudgetExceeded(QueryTooComplex):
    """The document would take more work to analyse than its size justifies."""


class AmbiguousOperation(Exception):
    """Several operations and no `operationName`, or a name the document lacks."""


@dataclass
class Work:
    """Nodes looked at, against a budget proportional to the document."""

    budget: int
    visits: int = 0

    def visit(self, n: int = 1) -> None:
        self.visits += n
        if self.visits > self.budget:
            raise AnalysisBudgetExceeded(
                "The document is too complex to analyse; simplify its fragments."
            )


@dataclass
class DocumentShape:
    """What a document asks for, before its variables are known."""

    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode
    root: GraphQLObjectType
    fragments: dict[str, FragmentDefinitionNode]
    work: Work
    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    _collected: dict[tuple[str, tuple[int, ...]], Fields] = field(default_factory=dict)
    _depths: dict[tuple[str, FieldsKey], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        *,
        visit_budget_per_node: int = 20,
        min_visit_budget: int = 10_000,
    ) -> DocumentShape:
        operation = _operation(document, operation_name)
        root = _root_type(schema, operation)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        nodes = _count_nodes(document)
        shape = cls(
            schema,
            document,
            operation,
            root,
            fragments,
            Work(budget=max(min_visit_budget, visit_budget_per_node * nodes)),
        )
        shape.aliases = _aliases(operation, fragments)
        fields = shape.collect(root, [operation.selection_set])
        shape.root_fields = len(fields)
        shape.depth = shape._depth(root, fields)
        return shape

    @property
    def visits(self) -> int:
        return self.work.visits

    # --- collecting fields as execution does ----------------------------------------------
    def collect(self, parent: GraphQLObjectType, sets: Iterable[SelectionSetNode]) -> Fields:
        """The fields of `sets` on `parent`, by response key (fragments read once each)."""
        sets = list(sets)
        key = (parent.name, tuple(id(s) for s in sets))
        found = self._collected.get(key)
        if found is not None:
            return found
        fields: Fields = {}
        visited: set[str] = set()
        for selection_set in sets:
            self._collect_into(parent, selection_set, fields, visited)
        self._collected[key] = fields
        return fields

    def _collect_into(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: Fields,
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            self.work.visit()
            if isinstance(selection, FieldNode):
                name = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(name, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, parent):
                    self._collect_into(parent, selection.selection_set, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, parent):
                    self._collect_into(parent, fragment.selection_set, fields, visited)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        if condition == parent.name:
            return True
        target = self.schema.get_type(condition)
        if isinstance(target, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(target, parent)
        return False

    def children(
        self, parent: GraphQLObjectType, nodes: list[FieldNode]
    ) -> list[tuple[GraphQLObjectType, Fields]]:
        """The object types below a merged field, each with the fields selected on it."""
        definition = parent.fields.get(nodes[0].name.value)
        sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if definition is None or not sets:
            return []
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            return [(named, self.collect(named, sets))]
        if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
            members = self.schema.get_possible_types(named)
            return [(member, self.collect(member, sets)) for member in members]
        return []

    def _depth(self, parent: GraphQLObjectType, fields: Fields) -> int:
        key = (parent.name, _fields_key(fields))
        known = self._depths.get(key)
        if known is not None:
            return known
        deepest = 0
        for nodes in fields.values():
            self.work.visit()
            for child, below in self.children(parent, nodes):
                deepest = max(deepest, 1 + self._depth(child, below))
        self._depths[key] = deepest
        return deepest


# --- pricing with variables ---------------------------------------------------------------


@dataclass
class _Ask:
    limits: Limits
    shape: NetworkShape
    selected: frozenset[str]
    arguments: Mapping[str, Any]

    def arg(self, name: str) -> Any:
        value = self.arguments.get(name)
        return None if value is Undefined else value


@dataclass
class Estimate:
    """The upstream calls an operation may make, at most, with these variables."""

    shape: DocumentShape
    variables: Mapping[str, Any]
    limits: Limits
    network: NetworkShape
    max_entities: int = 100
    _once: set[object] = field(default_factory=set)
    _memo: dict[tuple[str, FieldsKey, Level], int] = field(default_factory=dict)
    # This estimate's own count against the document's budget: the shape is cached and
    # shared by every request that sends the document, so its count must not be spent.
    work: Work = field(init=False)

    def __post_init__(self) -> None:
        self.work = Work(budget=self.shape.work.budget)
        # A variable the request leaves out takes the operation's default for it.
        defaults = {
            definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in self.shape.operation.variable_definitions or ()
            if definition.default_value is not None
        }
        self.variables = {**defaults, **self.variables}

    def total(self) -> int:
        document = self.shape
        fields = document.collect(document.root, [document.operation.selection_set])
        return self._price(document.root, fields, Level())

    def _price(self, parent: GraphQLObjectType, fields: Fields, level: Level) -> int:
        key = (parent.name, _fields_key(fields), level)
        known = self._memo.get(key)
        if known is not None:
            return known
        total = 0
        shared: set[object] = set()
        for nodes in fields.values():
            self.work.visit()
            node = nodes[0]
            definition = parent.fields.get(node.name.value)
            if definition is None:  # __typename and other meta fields
                continue
            cost = _cost(definition)
            ask = _Ask(
                self.limits,
                self.network,
                self._selected(parent, nodes),
                self._arguments(definition, node),
            )
            charge = cost.charge(level, ask)
            total += self._charged(charge, shared)
            if parent.name == self.shape.root.name and node.name.value == "_entities":
                total += self._entities(parent, nodes, ask)
                continue
            below = cost.below(level, ask) if cost.below is not None else level
            for child, child_fields in self.shape.children(parent, nodes):
                total += self._price(child, child_fields, below)
        self._memo[key] = total
        return total

    def _charged(self, charge: Charge, shared: set[object]) -> int:
        if charge.calls <= 0:
            return 0
        if charge.shared is None:
            return charge.calls
        seen = self._once if charge.once else shared
        if charge.shared in seen:
            return 0
        seen.add(charge.shared)
        return charge.calls

    def _entities(self, parent: GraphQLObjectType, nodes: list[FieldNode], ask: _Ask) -> int:
        """A router's `_entities` call: each member type priced for its representations."""
        representations = ask.arg("representations")
        if not isinstance(representations, list):
            representations = [representations]
        if len(representations) > self.max_entities:
            raise QueryTooComplex(
                f"At most {self.max_entities} entity representations per request.",
                limit="entities",
            )
        counts: dict[str, int] = {}
        for representation in representations:
            name = representation.get("__typename") if isinstance(representation, Mapping) else None
            if isinstance(name, str):
                counts[name] = counts.get(name, 0) + 1
        total = 0
        for member, fields in self.shape.children(parent, nodes):
            n = counts.get(member.name, 0)
            if n == 0:
                continue
            total += self._reference_calls(member.name, n)
            total += self._price(member, fields, Level(parents=n, locations=n, stations=n))
        return total

    def _reference_calls(self, type_name: str, n: int) -> int:
        if type_name == "Location":
            return 1  # one batch of ids: GET /locations/{id}, or the list for several
        # Stations and EVSEs: located with GET /stations, then their locations' status.
        return batches(n) + status_pages(self.limits, n)

    def _selected(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> frozenset[str]:
        names: set[str] = set()
        for _child, fields in self.shape.children(parent, nodes):
            names.update(field_nodes[0].name.value for field_nodes in fields.values())
        return frozenset(names)

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: argument.default_value for name, argument in definition.args.items()
        }
        for argument in node.arguments or ():
            value = value_from_ast_untyped(argument.value, dict(self.variables))
            if value is not Undefined:
                values[argument.name.value] = value
        return values


def _cost(definition: GraphQLField) -> Cost:
    strawberry_field = (definition.extensions or {}).get(DEFINITION)
    metadata = getattr(strawberry_field, "metadata", None) or {}
    found = metadata.get(COST)
    return found if isinstance(found, Cost) else FREE


def _fields_key(fields: Fields) -> FieldsKey:
    return tuple((key, tuple(id(node) for node in nodes)) for key, nodes in fields.items())


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise AmbiguousOperation(
                "The document has several operations: name the one to run in `operationName`."
            )
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise AmbiguousOperation(f"The document has no operation named {name!r}.")


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType:
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        raise AmbiguousOperation(f"The schema has no {operation.operation.value} type.")
    return root


def _aliases(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> int:
    """Aliased fields in the operation and the fragments it reaches, each node once."""
    count = 0
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                count += selection.alias is not None
                if selection.selection_set is not None:
                    stack.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
    return count


def _count_nodes(document: DocumentNode) -> int:
    """Selections in the document: the size the analysis budget is proportional to."""
    count = 0
    stack: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        selections = stack.pop().selections
        count += len(selections)
        for selection in selections:
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                stack.append(inner)
    return count
