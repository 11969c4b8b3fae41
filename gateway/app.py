"""`create_app(settings)`: the Starlette app, its routes, and the lifespan owning the client.

Routes: `/graphql` (GraphQL over HTTP, GraphiQL for browsers), `/healthz` (the process
answers), `/readyz` (it can serve), `/metrics` (Prometheus); with GraphiQL on, its assets
under `/graphiql/assets/` and `/` redirecting to `/graphql`. Every request passes
`ObserveRequests` first: an id, a log line, metrics, and a span when tracing is on.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TypedDict

from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from gateway.config import Settings
from gateway.context import Context, limits_of
from gateway.http.auth import bearer_of, bearer_token
from gateway.http.demo_guide import DemoGuide
from gateway.http.graphiql import ASSETS_PATH, GraphiQL, assets_dir
from gateway.http.live_socket import (
    LiveSocketHandler,
    TextWebSocketAdapter,
    payload_authorization,
)
from gateway.http.middleware import http_middleware
from gateway.http.view import ConformantGraphQL
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.idempotency_shared import SharedIdempotencyStore
from gateway.live import LiveHub, LiveLimits
from gateway.live.fleet import Fleet
from gateway.live.policy import PollPolicy
from gateway.loaders import Loaders
from gateway.loaders.shape import ShapeBook
from gateway.ops.health import Readiness, healthz
from gateway.ops.metrics import Metrics
from gateway.ops.requests import ObserveRequests, RequestRecord, record_of
from gateway.ops.tracing import Tracing, tracing_from
from gateway.schema.build import build_schema
from gateway.schema.persisted import AutomaticPersistedQueries
from gateway.shared import SharedState, open_state
from gateway.shared.hold_off import HoldOff
from gateway.shared.memory import MemoryState
from gateway.upstream.breaker import BreakerPolicy
from gateway.upstream.client import RetryPolicy, UpstreamClient, build_http_client
from gateway.upstream.observe import CallObserver, LogFailures
from gateway.upstream.response_cache import ResponseCache
from gateway.upstream.transport import checked_transport


class AppState(TypedDict):
    upstream: UpstreamClient
    shapes: ShapeBook
    idempotency: IdempotencyStore
    live: LiveHub
    shared: SharedState
    hold_off: HoldOff | None  # credentials the upstream answered 429 (rate_limit.py)
    persisted: AutomaticPersistedQueries | None


class GatewayGraphQL(ConformantGraphQL[Context, None]):
    """The GraphQL endpoint; each request gets its own context and loaders, and so does
    each operation on a WebSocket (graphql-transport-ws, for subscriptions)."""

    graphql_transport_ws_handler_class = LiveSocketHandler
    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    def __init__(self, settings: Settings, metrics: Metrics, ide: GraphiQL | None) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if ide else None,
            # The legacy `graphql-ws` protocol is not offered: its handler shares one
            # context (and its loaders) across every operation of a connection. Over
            # HTTP: multipart subscriptions (Apollo's) and graphql-sse.
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
            ),
            connection_init_wait_timeout=timedelta(seconds=settings.live_connection_init_timeout_s),
            max_subscriptions_per_connection=settings.live_max_subscriptions_per_connection,
        )
        self.settings = settings
        self.metrics = metrics
        self.ide = ide
        self.live_connections = 0
        self.keepalive_s = settings.live_keepalive_s  # read by `LiveSocketHandler`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        if self.live_connections >= self.settings.live_max_connections:
            # Refused before the upgrade is accepted: the client sees HTTP 403.
            await WebSocket(scope, receive, send).close(code=1013, reason="Try again later")
            return
        self.live_connections += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.live_connections -= 1

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page and assets instead of Strawberry's, which loads them from a CDN.
        assert self.ide is not None  # Strawberry asks only when `graphql_ide` is set
        return self.ide.page(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        upstream: UpstreamClient = request.state.upstream
        token = bearer_token(request)
        record = record_of(request.scope)
        if record is not None:
            record.note_caller(token)
        return Context.build(
            self.settings,
            upstream,
            token,
            idempotency=request.state.idempotency,
            report_cost=request.headers.get("x-gateway-cost") == "1",
            on_batch=self.metrics.batch_size.observe,
            live=request.state.live,
            shape_of=request.state.shapes.of,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """`connection_init`: the payload's token, else the upgrade's; none: close 4403."""
        given = payload_authorization(context.connection_params)
        token = bearer_of(given) if given is not None else context.loaders.caller.bearer
        if token is None:
            raise ConnectionRejectionError({"reason": "A bearer token is required."})
        context.renew(token)
        acknowledged: UnsetType = UNSET  # connection_ack with no payload
        return acknowledged

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
        record = record_of(request.scope)
        persisted: AutomaticPersistedQueries | None = getattr(request.state, "persisted", None)
        try:
            try:
                if persisted is not None:
                    request_data = await persisted.resolve(request_data)
            except GraphQLError as refused:  # a request error: answered without `data`
                result = ExecutionResult(data=None, errors=[refused])
            else:
                result = await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        finally:
            # Whether answered, failed or cancelled: no upstream work outlives the request.
            context.loaders.close()
            if record is not None:
                record.upstream_calls = context.loaders.budget.spent
        if record is not None:
            _note_result(record, request_data.operation_name or context.operation_run, result)
        return result


def _note_result(record: RequestRecord, operation: str | None, result: ExecutionResult) -> None:
    """What the request log and metrics say of a GraphQL answer."""
    record.operation = operation
    errors = result.errors or []
    record.error_codes = [str((e.extensions or {}).get("code", "")) for e in errors]
    limits = [(e.extensions or {}).get("limit") for e in errors]
    if result.data is None and errors and all(e.path is None for e in errors):
        record.outcome = "refused"
        codes = set(record.error_codes)
        record.limit = next((str(x) for x in limits if x), None) or (
            "cost" if "QUERY_TOO_COMPLEX" in codes else None
        )
    elif errors:
        record.outcome = "partial" if result.data else "error"
    else:
        record.outcome = "ok"


def live_hub(
    settings: Settings, upstream: UpstreamClient, shapes: ShapeBook, metrics: Metrics
) -> LiveHub:
    """The live layer: its polls read through loaders, as requests do."""
    limits = limits_of(settings)

    def loaders_for(token: str) -> Loaders:
        deadline = time.monotonic() + settings.request_deadline_s
        return Loaders(upstream, token, deadline, limits=limits, shape=shapes.of(token))

    return LiveHub(
        loaders_for,
        LiveLimits(
            status_interval_s=settings.live_status_interval_s,
            power_interval_s=settings.live_power_interval_s,
            errors_interval_s=settings.live_errors_interval_s,
            max_subscriptions_per_credential=settings.live_max_subscriptions_per_credential,
            max_pending_events=settings.live_max_pending_events,
            max_error_pages=settings.live_max_error_pages,
        ),
        PollPolicy(max_backoff_s=settings.live_max_backoff_s),
        on_poll=metrics.live_poll,
        on_event=metrics.live_event,
        fleet=live_fleet(settings),
    )


def live_fleet(settings: Settings) -> Fleet | None:
    """With replicas sharing Redis: one poller per cohort among them."""
    if not (settings.redis_url and settings.live_fleet):
        return None
    from gateway.shared.bus import RedisBus  # redis-py only when asked for

    bus = RedisBus(
        settings.redis_url, prefix=settings.redis_key_prefix, timeout_s=settings.redis_timeout_s
    )
    return Fleet(bus, lease_s=settings.live_fleet_lease_s)


def idempotency_store(settings: Settings, shared: SharedState) -> IdempotencyStore:
    """Keys in Redis when replicas share one, else this process's (which needs no polls)."""
    if settings.redis_url:
        return SharedIdempotencyStore(
            shared, window_s=settings.idempotency_window_s, wait_s=settings.request_deadline_s
        )
    return MemoryIdempotencyStore(window_s=settings.idempotency_window_s)


def response_cache(
    settings: Settings, shared: SharedState, metrics: Metrics
) -> ResponseCache | None:
    if not settings.response_cache:
        return None
    # Redis evicts by its own maxmemory policy (INFO stats: evicted_keys); this process's
    # store, full, drops its oldest entries and counts each as outcome="eviction".
    store = shared
    if not settings.redis_url:
        store = MemoryState(
            max_keys=10_000, on_evict=lambda: metrics.response_cache_outcome("eviction")
        )
    # A fetch under the fleet-wide lock takes one upstream call's timeout at most (its
    # retries excepted); the lock outlives it a little so that waiters rarely fetch too.
    lock_ttl_s = settings.upstream_timeout_s + 1.0
    return ResponseCache(
        store,
        lock_ttl_s=lock_ttl_s,
        live_s=settings.response_cache_live_s,
        on_outcome=metrics.response_cache_outcome,
    )


def persisted_queries(settings: Settings, shared: SharedState) -> AutomaticPersistedQueries | None:
    """APQ in the shared state, or in a store bounded like the document cache; none when
    only trusted documents run (they are named by hash without registering)."""
    if settings.trusted_documents:
        return None
    store: SharedState = shared
    if not settings.redis_url:
        store = MemoryState(max_keys=max(settings.document_cache_size, 100))
    return AutomaticPersistedQueries(store, ttl_s=settings.persisted_query_ttl_s)


def create_app(
    settings: Settings, *, tracing: Tracing | None = None, demo: DemoGuide | None = None
) -> Starlette:
    """Build the gateway; the lifespan opens the pooled upstream client and closes it.

    `tracing` overrides `settings.tracing` (tests pass one with an in-memory exporter).
    `demo`, given only by `python -m gateway demo`, lets GraphiQL offer the emulator's
    tenants and the README's queries.
    """
    metrics = Metrics()
    tracing = tracing or tracing_from(settings.tracing)
    observers: list[CallObserver] = [LogFailures(), metrics]
    if tracing is not None:
        observers.append(tracing)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        http = build_http_client(
            timeout_s=settings.upstream_timeout_s,
            connect_timeout_s=settings.upstream_connect_timeout_s,
            max_connections=settings.upstream_max_connections,
            transport_kind=checked_transport(settings.upstream_transport),
        )
        shared = open_state(
            settings.redis_url, prefix=settings.redis_key_prefix, timeout_s=settings.redis_timeout_s
        )
        hold_off = None
        if settings.upstream_hold_off_max_s > 0:
            hold_off = HoldOff(shared, max_s=settings.upstream_hold_off_max_s)
        async with http:
            upstream = UpstreamClient(
                http,
                settings.upstream_url,
                policy=RetryPolicy(max_attempts=settings.upstream_retry_attempts),
                max_concurrency=settings.upstream_max_concurrency,
                max_body_bytes=settings.upstream_max_body_bytes,
                breaker=BreakerPolicy(
                    failure_threshold=settings.upstream_circuit_failure_threshold,
                    open_s=settings.upstream_circuit_open_s,
                ),
                observers=observers,
                cache=response_cache(settings, shared, metrics),
                on_throttled=None if hold_off is None else hold_off.throttled,
            )
            app.state.upstream_client = upstream
            shapes = ShapeBook()
            live = live_hub(settings, upstream, shapes, metrics)
            app.state.live = live
            try:
                yield {
                    "upstream": upstream,
                    "shapes": shapes,
                    "idempotency": idempotency_store(settings, shared),
                    "live": live,
                    "shared": shared,
                    "hold_off": hold_off,
                    "persisted": persisted_queries(settings, shared),
                }
            finally:
                live.close()
                if live.fleet is not None:
                    await live.fleet.close()
                await shared.close()

    def upstream_of_app() -> UpstreamClient:
        client: UpstreamClient = app.state.upstream_client
        return client

    async def metrics_route(request: Request) -> Response:
        live: LiveHub | None = getattr(app.state, "live", None)
        if live is not None:
            metrics.note_live(
                graphql.live_connections,
                live.subscription_count,
                live.cohort_count,
                live.leading_count,
            )
        body, media_type = metrics.exposition(
            upstream_of_app().circuit_states, settings.metrics_multiprocess_dir
        )
        return Response(body, media_type=media_type)

    ide = GraphiQL(assets_dir(settings.graphiql_assets_dir), demo) if settings.graphiql else None
    graphql = GatewayGraphQL(settings, metrics, ide)
    readiness = Readiness(upstream_of_app)
    ide_routes: list[BaseRoute] = []
    if ide is not None:
        ide_routes = [
            Route("/", lambda _: RedirectResponse("/graphql"), methods=["GET"]),
            Route(ASSETS_PATH + "/{path:path}", ide.asset, methods=["GET"]),
        ]
    app = Starlette(
        middleware=[
            Middleware(ObserveRequests, metrics=metrics, tracing=tracing),
            *http_middleware(settings),
        ],
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readiness.answer, methods=["GET"]),
            Route("/metrics", metrics_route, methods=["GET"]),
            *ide_routes,
        ],
        lifespan=lifespan,
    )
    app.state.graphql = graphql  # for operations tooling and the tests (plan counters)
    app.state.metrics = metrics
    app.state.readiness = readiness
    return app
