"""Run a `Plan`: level by level over all the parents at once, as graphql-core would answer.

Every field of every parent at one level is read before anything is awaited, so the loads
of a whole level land in the same tick and batch together. Values complete as
graphql-core completes them: leaves through their type's `coerce_output_value`, lists item
by item, objects field by field; an error nulls its field, and a null (or an error) in a
non-null position nulls the nearest nullable ancestor instead, with one error at the
position where it happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, located_error
from graphql.execution.values import get_argument_values
from strawberry.execution.is_awaitable import optimized_is_awaitable as isawaitable

from gateway.plans.nodes import FieldPlan, Leaf, ListOf, Object, Plan, Shape

Path = tuple[str | int, ...]


class _Failed:
    """A position nulled by an error (its own or a non-null child's)."""


FAILED = _Failed()


@dataclass(frozen=True, slots=True)
class _Raised:
    error: Exception


@dataclass(frozen=True, slots=True)
class PlanInfo:
    """What a resolver may ask of its `info` on a planned path."""

    context: Any
    selected_names: frozenset[str]
    field: FieldPlan

    def selected_under(self, path: tuple[str, ...]) -> frozenset[str]:
        """Names selected at `path` below this field, read off the plan."""
        level = [self.field]
        for name in path:
            level = [child for f in level for child in _children(f) if child.name == name]
        return frozenset(child.name for f in level for child in _children(f))


def _children(field: FieldPlan) -> list[FieldPlan]:
    shape = field.shape
    while isinstance(shape, ListOf):
        shape = shape.item
    return shape.fields if isinstance(shape, Object) else []


class Execution:
    def __init__(
        self,
        plan: Plan,
        *,
        context: Any,
        root_value: Any,
        variables: Any,  # graphql-core's VariableValues, for its argument coercion
        convert: Any,  # (GraphQL arguments, FieldPlan) -> resolver kwargs
    ) -> None:
        self.plan = plan
        self.context = context
        self.root_value = root_value
        self.errors: list[GraphQLError] = []
        self._arguments: list[dict[str, Any] | Exception] = []
        for field in plan.fields_with_arguments:
            assert field.definition is not None
            try:
                raw = get_argument_values(field.definition, field.nodes[0], variables)
                self._arguments.append(convert(raw, field))
            except Exception as invalid:  # reported where the field is read
                self._arguments.append(invalid)
        self._infos: dict[int, PlanInfo] = {}

    # --- what resolvers read ---------------------------------------------------------
    def arguments_of(self, field: FieldPlan) -> dict[str, Any]:
        if field.argument_key < 0:
            return {}
        arguments = self._arguments[field.argument_key]
        if isinstance(arguments, Exception):
            raise arguments
        return arguments

    def info_of(self, field: FieldPlan) -> PlanInfo:
        info = self._infos.get(id(field))
        if info is None:
            info = self._infos[id(field)] = PlanInfo(self.context, field.selected, field)
        return info

    # --- running ------------------------------------------------------------------------
    async def run(self) -> dict[str, Any] | None:
        [data] = await self._objects(self.plan.root, [self.root_value], [()])
        return None if data is FAILED else data  # type: ignore[return-value]

    async def _objects(
        self, shape: Object, parents: list[Any], paths: list[Path]
    ) -> list[dict[str, Any] | _Failed]:
        fields = shape.fields
        columns: list[list[Any]] = []
        waiting: list[tuple[int, int]] = []
        awaitables: list[Any] = []
        for f, field in enumerate(fields):
            read = field.read
            column: list[Any] = []
            for p, parent in enumerate(parents):
                try:
                    value = read(parent, self)
                except Exception as error:
                    value = _Raised(error)
                else:
                    if isawaitable(value):
                        waiting.append((f, p))
                        awaitables.append(value)
                column.append(value)
            columns.append(column)
        if awaitables:
            settled = await asyncio.gather(*awaitables, return_exceptions=True)
            for (f, p), value in zip(waiting, settled, strict=True):
                if isinstance(value, BaseException) and not isinstance(value, Exception):
                    raise value
                columns[f][p] = _Raised(value) if isinstance(value, Exception) else value
        completed = await asyncio.gather(
            *(
                self._column(field, column, paths)
                for field, column in zip(fields, columns, strict=True)
            )
        )
        results: list[dict[str, Any] | _Failed] = []
        for p in range(len(parents)):
            row: dict[str, Any] = {}
            for field, values in zip(fields, completed, strict=True):
                value = values[p]
                if value is FAILED:
                    if field.non_null:
                        row = None  # type: ignore[assignment]
                        break
                    value = None
                row[field.key] = value
            results.append(FAILED if row is None else row)
        return results

    async def _column(self, field: FieldPlan, values: list[Any], paths: list[Path]) -> list[Any]:
        """The completed values of one field for every parent (FAILED where nulled)."""
        objects: list[Any] = []
        object_paths: list[Path] = []
        trees = [
            self._walk(
                field, field.shape, value, (*path, field.key), field.non_null, objects, object_paths
            )
            for value, path in zip(values, paths, strict=True)
        ]
        if not objects:
            return [_build(tree, []) for tree in trees]
        target = _object_of(field.shape)
        done = await self._objects(target, objects, object_paths)
        return [_build(tree, done) for tree in trees]

    def _walk(
        self,
        field: FieldPlan,
        shape: Shape | None,
        value: Any,
        path: Path,
        non_null: bool,
        objects: list[Any],
        object_paths: list[Path],
    ) -> Any:
        """Complete what needs no await; put objects aside (as `_Slot`s) for their level."""
        if isinstance(value, _Raised):
            return self._fail(field, value.error, path)
        if value is None:
            if non_null:
                message = f"Cannot return null for non-nullable field {field.parent}.{field.name}."
                return self._fail(field, TypeError(message), path)
            return None
        if shape is None:  # __typename
            return value
        if isinstance(shape, Leaf):
            try:
                coerced = shape.type.coerce_output_value(value)
            except Exception as invalid:
                return self._fail(field, invalid, path)
            return coerced
        if isinstance(shape, ListOf):
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
                not_a_list = TypeError(
                    f"Expected Iterable, but did not find one for field"
                    f" '{field.parent}.{field.name}'."
                )
                return self._fail(field, not_a_list, path)
            items = [
                self._walk(
                    field,
                    shape.item,
                    item,
                    (*path, index),
                    shape.item_non_null,
                    objects,
                    object_paths,
                )
                for index, item in enumerate(value)
            ]
            return _Items(items, shape.item_non_null)
        objects.append(value)
        object_paths.append(path)
        return _Slot(len(objects) - 1)

    def _fail(self, field: FieldPlan, error: Exception, path: Path) -> _Failed:
        self.errors.append(located_error(error, field.nodes, list(path)))
        return FAILED


@dataclass(frozen=True, slots=True)
class _Slot:
    index: int


@dataclass(frozen=True, slots=True)
class _Items:
    items: list[Any]
    non_null: bool


def _build(tree: Any, done: list[Any]) -> Any:
    if isinstance(tree, _Slot):
        return done[tree.index]
    if isinstance(tree, _Items):
        built = []
        for item in tree.items:
            value = _build(item, done)
            if value is FAILED:
                if tree.non_null:
                    return FAILED
                value = None
            built.append(value)
        return built
    return tree


def _object_of(shape: Shape | None) -> Object:
    while isinstance(shape, ListOf):
        shape = shape.item
    assert isinstance(shape, Object)
    return shape
