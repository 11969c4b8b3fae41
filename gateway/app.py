"""`create_app(settings)`: the Starlette app, its routes, and the lifespan owning the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from cross_web import AsyncHTTPRequestAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.config import Settings
from gateway.context import Context
from gateway.http.auth import bearer_token
from gateway.http.middleware import http_middleware
from gateway.http.view import ConformantGraphQL
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.loaders.shape import ShapeBook
from gateway.schema.build import build_schema
from gateway.upstream.breaker import BreakerPolicy
from gateway.upstream.client import RetryPolicy, UpstreamClient, build_http_client
from gateway.upstream.transport import checked_transport


class AppState(TypedDict):
    upstream: UpstreamClient
    shapes: ShapeBook
    idempotency: IdempotencyStore


class GatewayGraphQL(ConformantGraphQL[Context, None]):
    """The GraphQL endpoint; each request gets its own context and loaders."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings), graphql_ide="graphiql" if settings.graphiql else None
        )
        self.settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        upstream: UpstreamClient = request.state.upstream
        token = bearer_token(request)
        return Context.build(
            self.settings,
            upstream,
            token,
            shape=request.state.shapes.of(token),
            idempotency=request.state.idempotency,
            report_cost=request.headers.get("x-gateway-cost") == "1",
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        context.operation_name = request_data.operation_name
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        finally:
            # Whether answered, failed or cancelled: no upstream work outlives the request.
            context.loaders.close()


def create_app(settings: Settings) -> Starlette:
    """Build the gateway; the lifespan opens the pooled upstream client and closes it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        http = build_http_client(
            timeout_s=settings.upstream_timeout_s,
            connect_timeout_s=settings.upstream_connect_timeout_s,
            max_connections=settings.upstream_max_connections,
            transport_kind=checked_transport(settings.upstream_transport),
        )
        async with http:
            yield {
                "upstream": UpstreamClient(
                    http,
                    settings.upstream_url,
                    policy=RetryPolicy(max_attempts=settings.upstream_retry_attempts),
                    max_concurrency=settings.upstream_max_concurrency,
                    max_body_bytes=settings.upstream_max_body_bytes,
                    breaker=BreakerPolicy(
                        failure_threshold=settings.upstream_circuit_failure_threshold,
                        open_s=settings.upstream_circuit_open_s,
                    ),
                ),
                "shapes": ShapeBook(),
                "idempotency": MemoryIdempotencyStore(window_s=settings.idempotency_window_s),
            }

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GatewayGraphQL(settings)
    app = Starlette(
        middleware=http_middleware(settings),
        routes=[
            Route("/graphql", graphql),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.graphql = graphql  # for operations tooling and the tests (plan counters)
    return app
