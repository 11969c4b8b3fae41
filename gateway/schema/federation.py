"""Helpers for Apollo Federation entity references."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.errors import BadUserInput


def entity_key(representation: Mapping[str, object], name: str) -> str:
    """One key field of a representation; a router that leaves it out gets a clear error."""
    value = representation.get(name)
    if not isinstance(value, str) or not value:
        raise BadUserInput(f"The representation needs a non-empty string `{name}`.", field=name)
    return value
