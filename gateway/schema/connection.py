"""Relay connections: `edges { cursor node }`, `pageInfo`, and `nodes` as a shortcut."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from gateway.cursors import CursorCodec
from gateway.paging import Slice

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
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for callers that need no cursors.")
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
