"""Assemble the schema: types, roots, federation, limits and error codes."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from gateway.config import Settings
from gateway.schema.cost import UpstreamCostLimiter
from gateway.schema.errors import ErrorCodes
from gateway.schema.evse import Evse
from gateway.schema.location import Location
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query
from gateway.schema.station import Station


class GatewaySchema(strawberry.federation.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: `ErrorCodes` logs each unexpected error once, with its id."""


def build_schema(settings: Settings | None = None) -> strawberry.federation.Schema:
    limits = settings or Settings()
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[Location, Station, Evse],
        federation_version="2.5",
        extensions=[
            # Factories, so that every request gets fresh extension state.
            lambda: QueryDepthLimiter(max_depth=limits.max_query_depth),
            lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=limits.max_query_tokens),
            lambda: UpstreamCostLimiter(
                max_cost=limits.max_upstream_cost, max_root_fields=limits.max_root_fields
            ),
            ErrorCodes,
        ],
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
