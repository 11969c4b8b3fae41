"""Compile a query operation into a `Plan`: fields collected and typed once, not per call.

Collection follows graphql-core's: fields merge by response key in order of first
appearance, a fragment is read once per selection set, `@skip`/`@include` decide with the
request's variables (so a plan is compiled per combination of those values). Anything the
plan does not model answers `None`, and the operation runs on graphql-core instead:
mutations and subscriptions, abstract types (`_entities`), introspection, directives
other than `@skip`/`@include`, and fields with Strawberry extensions or permissions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from gateway.plans.nodes import FieldPlan, Leaf, ListOf, Object, Plan, Shape

DEFINITION = "strawberry-definition"  # where Strawberry links a GraphQL field to its own


class Unsupported(Exception):
    """The operation uses something a plan does not model: graphql-core runs it."""


def directive_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Variables that `@skip`/`@include` read: a plan is compiled per their values."""
    names: set[str] = set()
    seen: set[str] = set()
    stack: list[SelectionSetNode] = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    stack.append(fragments[name].selection_set)
            elif (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)
    return tuple(sorted(names))


class Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.with_arguments: list[FieldPlan] = []
        self._objects: dict[tuple[str, tuple[int, ...]], Object] = {}

    def compile(self, operation: OperationDefinitionNode) -> Plan:
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are planned")
        root_type = self.schema.query_type
        assert root_type is not None
        root = self._object(root_type, [operation.selection_set])
        return Plan(root=root, fields_with_arguments=self.with_arguments)

    # --- collecting, as graphql-core does ---------------------------------------------
    def _object(self, type_: GraphQLObjectType, sets: list[SelectionSetNode]) -> Object:
        key = (type_.name, tuple(id(s) for s in sets))
        known = self._objects.get(key)
        if known is not None:
            return known
        plan = Object(type_.name)
        self._objects[key] = plan  # before the fields: a plan may be reached again below
        collected: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in sets:
            self._collect(type_, selection_set, collected, visited)
        plan.fields = [self._field(type_, key, nodes) for key, nodes in collected.items()]
        return plan

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        collected: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                collected.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, type_):
                    self._collect(type_, selection.selection_set, collected, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, type_):
                    self._collect(type_, fragment.selection_set, collected, visited)

    def _applies(self, condition: str, type_: GraphQLObjectType) -> bool:
        if condition == type_.name:
            return True
        if isinstance(self.schema.get_type(condition), GraphQLObjectType):
            return False
        raise Unsupported("fragments on abstract types are not planned")

    def _included(self, node: Any) -> bool:
        include = True
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                raise Unsupported(f"@{name} is not planned")
            [argument] = directive.arguments
            value = argument.value
            if isinstance(value, VariableNode):
                flag = self.variables.get(value.name.value)
            elif isinstance(value, BooleanValueNode):
                flag = value.value
            else:
                raise Unsupported("an odd directive argument")
            if (name == "skip" and flag is True) or (name == "include" and flag is not True):
                include = False
        return include

    # --- one response key ---------------------------------------------------------------
    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            type_name = parent.name
            return FieldPlan(
                key, name, parent.name, nodes, None, None, True, lambda _p, _e: type_name
            )
        if name.startswith("__"):
            raise Unsupported("introspection is not planned")
        definition = parent.fields.get(name)
        if definition is None:
            raise Unsupported(f"unknown field {parent.name}.{name}")
        non_null, shape = self._shape(definition.type, nodes)
        plan = FieldPlan(key, name, parent.name, nodes, definition, shape, non_null, _unset_read)
        plan.read = self._reader(definition, plan)
        plan.selected = _selected(shape)
        if definition.args or nodes[0].arguments:
            plan.argument_key = len(self.with_arguments)
            self.with_arguments.append(plan)
        return plan

    def _shape(self, type_: GraphQLOutputType, nodes: list[FieldNode]) -> tuple[bool, Shape]:
        non_null = isinstance(type_, GraphQLNonNull)
        inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(inner, GraphQLList):
            item_non_null, item = self._shape(inner.of_type, nodes)
            return non_null, ListOf(item, item_non_null)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            return non_null, Leaf(inner)
        if isinstance(inner, GraphQLObjectType):
            sets = [node.selection_set for node in nodes if node.selection_set is not None]
            return non_null, self._object(inner, sets)
        raise Unsupported("abstract types are not planned")

    def _reader(self, definition: GraphQLField, plan: FieldPlan) -> Callable[[Any, Any], Any]:
        strawberry_field = (definition.extensions or {}).get(DEFINITION)
        if strawberry_field is None:
            raise Unsupported("a field Strawberry did not build")
        if strawberry_field.extensions or getattr(strawberry_field, "permission_classes", None):
            raise Unsupported("fields with Strawberry extensions are not planned")
        resolver = strawberry_field.base_resolver
        if resolver is None:
            get = attrgetter(strawberry_field.python_name)
            return lambda parent, execution: get(parent)
        function = resolver.wrapped_func
        takes_self = resolver.self_parameter is not None
        info_name = resolver.info_parameter.name if resolver.info_parameter else None
        for parameter in (resolver.root_parameter, resolver.parent_parameter):
            if parameter is not None:
                raise Unsupported("root/parent parameters are not planned")

        if takes_self and info_name is None and not resolver.arguments:
            return lambda parent, execution: function(parent)  # the common case, lean

        def read(parent: Any, execution: Any) -> Any:
            kwargs = execution.arguments_of(plan)
            if info_name is not None:
                kwargs = {**kwargs, info_name: execution.info_of(plan)}
            return function(parent, **kwargs) if takes_self else function(**kwargs)

        return read


def _unset_read(parent: Any, execution: Any) -> Any:  # replaced once the plan exists
    raise AssertionError("a field plan read before it was compiled")


def _selected(shape: Shape) -> frozenset[str]:
    while isinstance(shape, ListOf):
        shape = shape.item
    if isinstance(shape, Object):
        return frozenset(field.name for field in shape.fields)
    return frozenset()
