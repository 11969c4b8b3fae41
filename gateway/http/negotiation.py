"""Content negotiation: which media type and which content coding a client accepts.

Both `Accept` and `Accept-Encoding` are lists of values weighted by `q` (RFC 9110 §12.4).
The client's weights decide. Between equal weights, the GraphQL-over-HTTP spec asks for the
media type listed first; codings have no such rule, so the server's order breaks their ties.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


class Weighted(NamedTuple):
    """One entry of a weighted header list, in the order the client wrote it."""

    value: str
    q: float
    position: int


def weighted(header: str) -> list[Weighted]:
    """The entries of a weighted header list, lowercased, parameters other than `q` dropped."""
    entries = []
    for position, part in enumerate(header.split(",")):
        value, *params = (piece.strip() for piece in part.split(";"))
        if not value:
            continue
        q = 1.0
        for param in params:
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                q = _quality(raw)
        entries.append(Weighted(value.lower(), q, position))
    return entries


def _quality(raw: str) -> float:
    try:
        q = float(raw.strip())
    except ValueError:
        return 0.0  # a garbled weight must not win over a well-formed one
    return min(max(q, 0.0), 1.0)


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither JSON type.

    A missing or empty `Accept` means plain JSON, the legacy default of the spec.
    """
    if accept is None or not accept.strip():
        return JSON
    # Server order last breaks ties: a wildcard matches both, and gets the type every
    # client reads.
    offers = (JSON, GRAPHQL_RESPONSE_JSON)
    return _best(weighted(accept), offers, _media_range_matches, client_order=True)


def content_coding(accept_encoding: str | None, available: Sequence[str]) -> str | None:
    """The best of `available` (in server preference order), or None for identity."""
    if accept_encoding is None:
        return None
    return _best(weighted(accept_encoding), available, _coding_matches, client_order=False)


def _best(
    entries: Sequence[Weighted],
    offers: Sequence[str],
    specificity: Callable[[str, str], int],
    *,
    client_order: bool,
) -> str | None:
    best: tuple[float, int, int] | None = None
    chosen = None
    for rank, offer in enumerate(offers):
        # The most specific entry that names this offer is the one that sets its weight.
        matches = [(specificity(entry.value, offer), entry) for entry in entries]
        matches = [(level, entry) for level, entry in matches if level > 0]
        if not matches:
            continue
        _, entry = max(matches, key=lambda match: match[0])
        if entry.q <= 0:
            continue
        key = (entry.q, -entry.position if client_order else 0, -rank)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


def _media_range_matches(pattern: str, offer: str) -> int:
    if pattern == offer:
        return 3
    kind, _, subtype = pattern.partition("/")
    if subtype == "*" and offer.startswith(kind + "/"):
        return 2
    return 1 if pattern == "*/*" else 0


def _coding_matches(pattern: str, offer: str) -> int:
    if pattern == offer:
        return 2
    return 1 if pattern == "*" else 0
