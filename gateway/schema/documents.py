"""`DocumentCache`: each distinct document is parsed, validated and analysed once.

Dashboards send the same few documents over and over; parsing and validating them is
most of what a small query costs. Entries are keyed by the document's text, bounded in
number and in the text they hold, and least recently used ones go first, so a stream of
distinct documents cannot grow memory. An entry keeps the parsed document, its validation
errors, and the analysis (`DocumentShape`, or why it was refused) per operation name.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from graphql import DocumentNode, GraphQLError

from gateway.errors import GatewayError
from gateway.schema.analysis import DocumentShape

MAX_OPERATIONS_PER_DOCUMENT = 16  # names a client may ask of one cached document


@dataclass
class Prepared:
    document: DocumentNode
    errors: list[GraphQLError] | None = None  # validation; None until validated
    shapes: dict[str | None, DocumentShape | GatewayError] = field(default_factory=dict)

    def remember(self, name: str | None, outcome: DocumentShape | GatewayError) -> None:
        if len(self.shapes) < MAX_OPERATIONS_PER_DOCUMENT:
            self.shapes[name] = outcome


class DocumentCache:
    def __init__(self, *, max_entries: int = 1000, max_text: int = 20_000_000) -> None:
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._max_entries = max_entries
        self._max_text = max_text
        self._text = 0
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> Prepared | None:
        entry = self._entries.get(text)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(text)
        return entry

    def put(self, text: str, document: DocumentNode) -> Prepared:
        entry = Prepared(document)
        if len(text) > self._max_text // 100:  # a huge one-off: not worth a place
            return entry
        self._entries[text] = entry
        self._text += len(text)
        while len(self._entries) > self._max_entries or self._text > self._max_text:
            old, _ = self._entries.popitem(last=False)
            self._text -= len(old)
        return entry

    def __len__(self) -> int:
        return len(self._entries)
