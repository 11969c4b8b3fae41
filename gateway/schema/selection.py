"""Look ahead at what a query selects below the current field, fragments included.

Read off graphql-core's field nodes, never Strawberry's `info.selected_fields`: that
converts the whole subtree below the field with every fragment spread expanded, which a
document of nested fragments turns into exponential work. Here each level is a set of
nodes, each fragment entered once per level, and only the path asked for is walked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values
from strawberry.types import Info


def selected_names(info: Info[Any, Any]) -> frozenset[str]:
    """Names of the fields selected directly below this field, across aliases and fragments.

    A compiled plan hands resolvers an info that knows them already (`PlanInfo`).
    """
    known = getattr(info, "selected_names", None)
    if known is not None:
        return known  # type: ignore[no-any-return]
    return selected_under(info)


def selected_under(info: Info[Any, Any], *path: str) -> frozenset[str]:
    """Names selected at `path` below this field (`"nodes"` of a connection, say), across
    aliases and fragments: what a resolver reads to start a later field's call early."""
    ahead = getattr(info, "selected_under", None)
    if ahead is not None:
        return ahead(path)  # type: ignore[no-any-return]
    raw = info._raw_info
    walk = _Walk(raw.fragments, raw.variable_values)
    level = walk.children(raw.field_nodes)
    for name in path:
        level = walk.children([node for node in level if node.name.value == name])
    return frozenset(node.name.value for node in level)


class _Walk:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode], variables: Any) -> None:
        self._fragments = fragments
        self._variables = variables

    def children(self, fields: Iterable[FieldNode]) -> list[FieldNode]:
        """The field nodes one level below `fields`, with `@skip`/`@include` applied."""
        found: list[FieldNode] = []
        entered: set[str] = set()
        for field in fields:
            if field.selection_set is not None:
                self._collect(field.selection_set, found, entered)
        return found

    def _collect(
        self, selections: SelectionSetNode, found: list[FieldNode], entered: set[str]
    ) -> None:
        for selection in selections.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                self._collect(selection.selection_set, found, entered)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is not None and name not in entered:
                    entered.add(name)  # a fragment spread twice adds nothing new
                    self._collect(fragment.selection_set, found, entered)

    def _included(self, node: SelectionNode) -> bool:
        for directive in node.directives or ():
            kind = _CONDITIONS.get(directive.name.value)
            if kind is not None:
                condition = get_argument_values(kind[0], directive, self._variables)["if"]
                if bool(condition) != kind[1]:
                    return False
        return True


# The directive, and the value of its `if` that keeps a selection.
_CONDITIONS = {"skip": (GraphQLSkipDirective, False), "include": (GraphQLIncludeDirective, True)}
