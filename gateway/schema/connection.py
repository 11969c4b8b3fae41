"""Relay connections: `edges { cursor node }`, `pageInfo`, and `nodes` as a shortcut."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.cursors import CursorCodec, Position
from gateway.loaders import Loaders
from gateway.paging import Slice
from gateway.schema.costs import FREE, ROWS, priced

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")

# The paging arguments every connection field takes, with their descriptions.
First = Annotated[
    int,
    strawberry.argument(
        description=(
            "How many rows to return, 50 by default; more than `GATEWAY_MAX_PAGE_SIZE` "
            "(200 unless configured) or a negative number is refused."
        )
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Start after this cursor (an `endCursor` or edge `cursor` from this same list "
            "and filter, valid only with the caller's own token); omit for the first page."
        )
    ),
]


@strawberry.type(description="Where a page ends, and whether another one follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more rows follow; pass `endCursor` as `after` to read them."
    )
    end_cursor: str | None = strawberry.field(
        description=(
            "Opaque cursor to pass as `after` for the next page; null when there is "
            "nothing to resume from (an empty list)."
        )
    )


@strawberry.type(description="One row of a page, with the cursor that resumes after it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(
        description="Opaque cursor of this row: pass it as `after` to continue behind it."
    )
    node: NodeT = strawberry.field(description="The row itself.")


@strawberry.type
class Connection(Generic[NodeT]):
    """A page of nodes. Cursors are signed only when asked for (`edges`, `pageInfo`): a
    client reading `nodes` alone pays no HMAC per row."""

    page: strawberry.Private[Slice[Any]]
    codec: strawberry.Private[CursorCodec]
    node_of: strawberry.Private[Callable[[Any], Any]]
    _nodes: strawberry.Private[list[Any] | None] = None

    @strawberry.field(description="The page's rows, each with its cursor.", metadata=priced(ROWS))
    def edges(self) -> list[Edge[NodeT]]:
        encode = self.codec.encode
        return [
            Edge(cursor=encode(position), node=node)
            for (_, position), node in zip(self.page.rows, self.nodes(), strict=True)
        ]

    @strawberry.field(
        description="Whether another page follows, and the cursor to read it.",
        metadata=priced(FREE),
    )
    def page_info(self) -> PageInfo:
        end = self.page.end
        return PageInfo(
            has_next_page=self.page.has_next_page,
            end_cursor=self.codec.encode(end) if end is not None else None,
        )

    @strawberry.field(
        description="The nodes of `edges`, for callers that need no cursors.",
        metadata=priced(ROWS),
    )
    def nodes(self) -> list[NodeT]:
        if self._nodes is None:
            self._nodes = [self.node_of(row) for row, _ in self.page.rows]
        return self._nodes


ConnectionT = TypeVar("ConnectionT", bound=Connection[Any])


def connection(
    cls: type[ConnectionT],
    page: Slice[RowT],
    codec: CursorCodec,
    node: Callable[[RowT], object],
) -> ConnectionT:
    """A connection of `cls` over a slice; nodes and cursors are made when first read."""
    return cls(page=page, codec=codec, node_of=node)


class Keyed(Protocol):
    def key(self) -> str: ...


QueryT = TypeVar("QueryT", bound=Keyed)


@dataclass(frozen=True, slots=True)
class Paged(Generic[QueryT, RowT, ConnectionT]):
    """How one list is paged: its connection type, cursor scope, loader read and nodes."""

    cls: type[ConnectionT]
    list_name: str  # cursors are bound to it (and to the query's key)
    read: Callable[[Loaders, QueryT, Position, int], Awaitable[Slice[RowT]]]
    node: Callable[[RowT], object]

    async def page(
        self, info: Info[Context, None], query: QueryT, first: int, after: str | None
    ) -> ConnectionT:
        """One GraphQL page: check `first` and `after`, ask the loader, encode cursors."""
        context = info.context
        size = context.page_size(first)
        codec = context.cursors(self.list_name, query.key())
        start = codec.decode(after)
        rows = await self.read(context.loaders, query, start, size)
        return connection(self.cls, rows, codec, self.node)
