"""A tiny schema served by `ConformantGraphQL`: HTTP-layer tests that need no upstream."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.config import Settings
from gateway.http.middleware import http_middleware
from gateway.http.view import ConformantGraphQL


@strawberry.type
class Item:
    id: strawberry.ID
    name: str

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"item {self.id} is broken")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def item(self, id: strawberry.ID) -> Item:
        return Item(id=id, name=f"item {id}")

    @strawberry.field
    def items(self, count: int = 3) -> list[Item]:
        return [Item(id=strawberry.ID(str(n)), name="x" * 40) for n in range(count)]

    @strawberry.field
    def must(self) -> str:
        raise ValueError("a non-null root field failed")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def bump(self) -> int:
        return 1


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)
SETTINGS = Settings(compress_min_bytes=1024, max_body_bytes=20_000)


def toy_app(settings: Settings = SETTINGS, *, graphiql: bool = True) -> Starlette:
    """The toy endpoint at `/graphql`, wrapped in the gateway's HTTP middleware."""
    view: ConformantGraphQL[None, None] = ConformantGraphQL(
        SCHEMA, graphql_ide="graphiql" if graphiql else None
    )
    return Starlette(routes=[Route("/graphql", view)], middleware=http_middleware(settings))


def with_settings(**changes: Any) -> Settings:
    return replace(SETTINGS, **changes)
