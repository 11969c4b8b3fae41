"""Look ahead at what a query selects below the current field, fragments included."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selected_names(info: Info[Any, Any]) -> frozenset[str] | set[str]:
    """Names of the fields selected directly below this field, across aliases and fragments.

    A compiled plan hands resolvers an info that knows them already (`PlanInfo`).
    """
    known = getattr(info, "selected_names", None)
    if known is not None:
        return known  # type: ignore[no-any-return]
    names: set[str] = set()
    for field in info.selected_fields:
        _collect(field.selections, names)
    return names


def _collect(selections: Iterable[Selection], names: set[str]) -> None:
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, (FragmentSpread, InlineFragment)):
            _collect(selection.selections, names)
