"""Which upstream source serves a field, declared on the field itself.

A type whose fields come from more than one upstream view (a `Station`: its inventory
and its live status) tags each field with its source. The routing that picks the cheaper
view for a selection reads the tags, so a new field cannot be routed wrongly by being
left out of a hand-kept list.
"""

from __future__ import annotations

import enum
from collections.abc import Set
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from strawberry.schema.name_converter import NameConverter

SOURCE = "gateway.source"  # the metadata key of a field's source


class Source(enum.Enum):
    INVENTORY = "inventory"  # GET /locations/{uid}/stations: one call per location
    LIVE = "live"  # the network status view: batched across locations
    EITHER = "either"  # in both rows: free with whichever one is at hand


def tagged(source: Source) -> dict[str, Any]:
    """Field metadata that names the field's source."""
    return {SOURCE: source}


@dataclass(frozen=True)
class FieldSources:
    """The GraphQL names of one type's fields, grouped by the source they need."""

    cls: type

    @cached_property
    def _names(self) -> dict[Source, frozenset[str]]:
        converter = NameConverter()
        fields = self.cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
        grouped: dict[Source, set[str]] = {source: set() for source in Source}
        for field in fields:
            source = field.metadata.get(SOURCE)
            if isinstance(source, Source):
                grouped[source].add(converter.get_graphql_name(field))
        return {source: frozenset(names) for source, names in grouped.items()}

    def of(self, source: Source) -> frozenset[str]:
        return self._names[source]

    def only_inventory(self, selected: Set[str]) -> bool:
        """True when the selection needs the inventory and nothing of the live view."""
        return bool(selected & self.of(Source.INVENTORY)) and not selected & self.of(Source.LIVE)
