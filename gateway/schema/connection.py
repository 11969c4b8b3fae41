"""Relay connections: `edges { cursor node }`, `pageInfo`, and `nodes` as a shortcut."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.cursors import CursorCodec, Position
from gateway.loaders import Loaders
from gateway.paging import Slice
from gateway.schema.costs import ROWS, priced

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


@strawberry.type(description="Where a page ends, and whether another one follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(metadata=priced(ROWS))
    page_info: PageInfo

    @strawberry.field(
        description="The nodes of `edges`, for callers that need no cursors.",
        metadata=priced(ROWS),
    )
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


ConnectionT = TypeVar("ConnectionT", bound=Connection[Any])


def connection(
    cls: type[ConnectionT],
    page: Slice[RowT],
    codec: CursorCodec,
    node: Callable[[RowT], object],
) -> ConnectionT:
    """Build a connection of `cls` from a slice, each edge with its own cursor."""
    edges = [Edge(cursor=codec.encode(position), node=node(row)) for row, position in page.rows]
    return cls(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            end_cursor=codec.encode(page.end) if page.end is not None else None,
        ),
    )


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
