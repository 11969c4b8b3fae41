"""`DocumentLimits`: every request's work is bounded before it starts.

After validation, one linear pass over the document (`analysis.DocumentShape`) checks its
depth and aliases, that it names which operation to run, and that it can be analysed
within a budget proportional to its size. Once the variables are known, the operation's
root fields are counted and its upstream calls estimated (`analysis.Estimate`, an upper
bound by construction): too many and it is refused before any upstream call. The request's
runtime call budget (`gateway/loaders/caller.py`) stops whatever the estimate missed.

A caller that asks (request `extensions: {"cost": true}` or the `X-Gateway-Cost: 1`
header) gets `extensions.cost` back: the estimate, the limit and the calls made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from gateway.context import Context
from gateway.errors import GatewayError, QueryTooComplex
from gateway.schema.analysis import AmbiguousOperation, DocumentShape, Estimate
from gateway.schema.documents import DocumentCache, Prepared


class DocumentRejected(GatewayError):
    """A document over a shape limit (depth, aliases) or naming no single operation."""

    code = "GRAPHQL_VALIDATION_FAILED"

    def __init__(self, message: str, *, limit: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit

    def extensions(self) -> dict[str, object]:
        extensions = super().extensions()
        if self.limit is not None:
            extensions["limit"] = self.limit
        return extensions


@dataclass(frozen=True, slots=True)
class Bounds:
    max_depth: int
    max_aliases: int
    max_root_fields: int
    max_cost: int
    max_entities: int


class DocumentLimits(SchemaExtension):
    """Checks a document's shape after validation and its cost before execution."""

    def __init__(
        self,
        *,
        bounds: Bounds,
        graphql_schema: Callable[[], GraphQLSchema],
        cache: DocumentCache,
    ) -> None:
        self.bounds = bounds
        self.graphql_schema = graphql_schema
        self.cache = cache
        self.prepared: Prepared | None = None
        self.shape: DocumentShape | None = None
        self.estimate: int | None = None

    def on_parse(self) -> Iterator[None]:
        # A document seen before is not parsed again (Strawberry skips parsing when an
        # extension has set the document).
        context = self.execution_context
        text = context.query
        if text is not None and context.graphql_document is None:
            self.prepared = self.cache.get(text)
            if self.prepared is not None:
                context.graphql_document = self.prepared.document
        yield
        if self.prepared is None and text is not None and context.graphql_document is not None:
            self.prepared = self.cache.put(text, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        # Validation is run here (once per cached document), then the shape checked;
        # Strawberry skips its own validation when an extension has set the result.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            prepared = self.prepared or Prepared(document)
            schema = self.graphql_schema()
            if prepared.errors is None:
                prepared.errors = validate(schema, document, context.validation_rules)
            errors = list(prepared.errors)
            if not errors:
                # The name the request gave: Strawberry's own defaults to the first operation.
                given = context.context
                name = given.operation_name if isinstance(given, Context) else None
                outcome = prepared.shapes.get(name)
                if outcome is None:
                    try:
                        outcome = self._checked(schema, document, name)
                    except GatewayError as refused:
                        outcome = refused
                    prepared.remember(name, outcome)
                if isinstance(given, Context) and not isinstance(outcome, GatewayError):
                    named = outcome.operation.name
                    given.operation_run = named.value if named is not None else None
                if isinstance(outcome, GatewayError):
                    errors = [GraphQLError(outcome.message, extensions=outcome.extensions())]
                else:
                    self.shape = outcome
            context.pre_execution_errors = errors
        yield

    def _checked(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
    ) -> DocumentShape:
        try:
            shape = DocumentShape.of(schema, document, operation_name)
        except AmbiguousOperation as ambiguous:
            raise DocumentRejected(str(ambiguous)) from None
        bounds = self.bounds
        if shape.depth > bounds.max_depth:
            raise DocumentRejected(
                f"The document is {shape.depth} levels deep; the limit is {bounds.max_depth}.",
                limit="depth",
            )
        if shape.aliases > bounds.max_aliases:
            raise DocumentRejected(
                f"The document has {shape.aliases} aliases; the limit is {bounds.max_aliases}.",
                limit="aliases",
            )
        return shape

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if self.shape is not None and context.result is None:
            try:
                self._check_cost()
            except QueryTooComplex as refused:
                error = GraphQLError(refused.message, extensions=refused.extensions())
                context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield

    def _check_cost(self) -> None:
        assert self.shape is not None
        bounds = self.bounds
        shape = self.shape
        if shape.root_fields > bounds.max_root_fields:
            raise QueryTooComplex(
                f"The operation has {shape.root_fields} root fields; "
                f"the limit is {bounds.max_root_fields}.",
                limit="root_fields",
            )
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        loaders = context.loaders
        variables = self.execution_context.variables or {}
        estimate = Estimate(
            shape, variables, loaders.limits, loaders.shape, max_entities=bounds.max_entities
        ).total()
        self.estimate = estimate
        if estimate > bounds.max_cost:
            raise QueryTooComplex(
                f"The operation could cost about {estimate} upstream calls; the limit is "
                f"{bounds.max_cost}. Ask for fewer items per page or fewer nested lists."
            )

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        if not isinstance(context, Context) or not (asked or context.report_cost):
            return {}
        return {
            "cost": {
                "estimate": self.estimate,
                "limit": self.bounds.max_cost,
                "calls": context.loaders.budget.spent,
            }
        }
