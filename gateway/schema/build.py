"""Assemble the schema: types, roots, federation, limits and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import MaxTokensLimiter
from strawberry.federation.schema import FederationAny
from strawberry.types import ExecutionContext, Info

from gateway.config import Settings
from gateway.errors import BadUserInput
from gateway.plans import planned_executor
from gateway.schema.costs import cost_of
from gateway.schema.documents import DocumentCache
from gateway.schema.errors import ErrorCodes
from gateway.schema.evse import Evse
from gateway.schema.limits import Bounds, DocumentLimits
from gateway.schema.location import Location
from gateway.schema.mutation import Mutation
from gateway.schema.persisted import TrustedDocuments, TrustedDocumentsOnly
from gateway.schema.query import Query
from gateway.schema.station import Station
from gateway.schema.subscription import Subscription

ENTITY_TYPES = frozenset({"Location", "Station", "Evse"})


class GatewaySchema(strawberry.federation.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here: `ErrorCodes` logs each unexpected error once, with its id."""

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """The graphql-core schema Strawberry built (for the document analysis)."""
        return self._schema

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """A router's representations, each checked before Strawberry resolves it.

        Strawberry would fail the whole call with an internal error on a representation
        that is not an object, names no or an unknown `__typename`; here each one fails
        alone, with `BAD_USER_INPUT` at its index. Representations are copied, since
        Strawberry takes `__typename` out of the dict it is given (the request's own).
        """
        results: list[Any] = []
        for index, representation in enumerate(representations):
            given: object = representation
            problem = _representation_problem(given)
            if problem is not None or not isinstance(given, dict):
                results.append(BadUserInput(f"Representation {index}: {problem}"))
                continue
            [resolved] = super().entities_resolver(info, [FederationAny(dict(given))])
            results.append(resolved)
        return results


def _representation_problem(representation: object) -> str | None:
    if not isinstance(representation, dict):
        return "it must be an object with `__typename` and the type's key fields."
    name = representation.get("__typename")
    if not isinstance(name, str):
        return "`__typename` is missing."
    if name not in ENTITY_TYPES:
        return f"`{name[:50]}` is not an entity of this subgraph."
    return None


def build_schema(settings: Settings | None = None) -> GatewaySchema:
    limits = settings or Settings()
    bounds = Bounds(
        max_depth=limits.max_query_depth,
        max_aliases=limits.max_aliases,
        max_root_fields=limits.max_root_fields,
        max_cost=limits.max_upstream_cost,
        max_entities=limits.max_entities,
    )
    schema: GatewaySchema
    documents = DocumentCache(max_entries=limits.document_cache_size)
    trusted = TrustedDocuments.load(limits.trusted_documents) if limits.trusted_documents else None

    def document_limits() -> DocumentLimits:
        return DocumentLimits(
            bounds=bounds, graphql_schema=lambda: schema.graphql_schema, cache=documents
        )

    executor = planned_executor(enabled=limits.compiled_plans)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Location, Station, Evse],
        federation_version="2.5",
        execution_context_class=executor,
        extensions=[
            # Factories, so that every request gets fresh extension state. The trusted
            # list first: it supplies the text of a document named by hash.
            *([lambda: TrustedDocumentsOnly(documents=trusted)] if trusted else []),
            lambda: MaxTokensLimiter(max_token_count=limits.max_query_tokens),
            document_limits,
            ErrorCodes,
        ],
    )
    executor.strawberry_schema = schema
    _require_costs(schema)
    return schema


def _require_costs(schema: GatewaySchema) -> None:
    """Every field with a resolver must declare what it costs upstream (`priced`)."""
    unpriced = []
    for name, concrete in schema.schema_converter.type_map.items():
        definition = getattr(concrete, "definition", None)
        for field in getattr(definition, "fields", ()):
            if field.base_resolver is None or "_" in (name[0], field.python_name[0]):
                continue  # attributes read the parent's row; federation's own fields are apart
            if cost_of(field.metadata) is None:
                unpriced.append(f"{name}.{field.python_name}")
    if unpriced:
        raise TypeError(f"fields without a declared upstream cost: {', '.join(sorted(unpriced))}")


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
