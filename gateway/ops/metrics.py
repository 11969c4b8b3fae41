"""Prometheus metrics: requests, upstream calls, limits, loaders, circuits.

Labels never carry a token or a tenant: operation names come from the documents (bounded
to `MAX_OPERATION_NAMES` distinct well-formed names, the rest counted as `other`), upstream
operations are the contract's operationIds. With several workers, set
`GATEWAY_METRICS_MULTIPROCESS_DIR` to an empty directory shared by them: `serve` exports
it as `PROMETHEUS_MULTIPROC_DIR` before the workers start, every worker writes its samples
there and `/metrics` answers the sum (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from gateway.upstream.observe import Attempt

MAX_OPERATION_NAMES: Final = 200
_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SECONDS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """One process's metrics, in their own registry (so tests can build several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "gateway_graphql_requests",
            "GraphQL requests by operation name and outcome (ok, partial, error, refused).",
            ["operation", "outcome"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "gateway_graphql_request_duration_seconds",
            "Time to answer a GraphQL request.",
            ["operation"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "gateway_graphql_requests_in_flight",
            "GraphQL requests being answered.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.rejected = Counter(
            "gateway_documents_rejected",
            "Requests refused before execution, by the limit they broke.",
            ["limit"],
            registry=registry,
        )
        self.upstream_calls = Counter(
            "gateway_upstream_calls",
            "Upstream attempts by operation and status (or failure).",
            ["operation", "status"],
            registry=registry,
        )
        self.upstream_seconds = Histogram(
            "gateway_upstream_call_duration_seconds",
            "Time of one upstream attempt, by operation.",
            ["operation"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.response_cache = Counter(
            "gateway_response_cache",
            "Upstream reads asked of the response cache (hit or miss), and entries its "
            "in-process store dropped when full (eviction).",
            ["outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "gateway_upstream_retries",
            "Upstream attempts that were followed by a retry.",
            ["operation"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "gateway_loader_batch_size",
            "Keys per loader batch (many keys per batch: the loaders are doing their job).",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250),
            registry=registry,
        )
        self.circuit = Gauge(
            "gateway_upstream_circuit_open",
            "1 while an upstream operation's circuit is open or half-open.",
            ["operation"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.live_connections = Gauge(
            "gateway_live_connections",
            "Open WebSocket connections.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.live_subscriptions = Gauge(
            "gateway_live_subscriptions",
            "Live subscriptions (WebSocket and HTTP streams).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.live_cohorts = Gauge(
            "gateway_live_cohorts",
            "Poll loops running: one per credential and upstream view subscribed to.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.live_cohorts_led = Gauge(
            "gateway_live_cohorts_led",
            "Poll loops this process polls for (on a fleet: those whose lease it holds).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.live_polls = Counter(
            "gateway_live_polls",
            "Live polls by upstream view and outcome (ok, failed).",
            ["resource", "outcome"],
            registry=registry,
        )
        self.live_events = Counter(
            "gateway_live_events",
            "Events offered to subscribers (before a slow one's coalescing).",
            registry=registry,
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        """A bounded, well-formed label for a client's operation name."""
        if not name:
            return "anonymous"
        if not _NAME.match(name):
            return "other"
        if name not in self._names:
            if len(self._names) >= MAX_OPERATION_NAMES:
                return "other"
            self._names.add(name)
        return name

    # --- the live layer --------------------------------------------------------------------
    def live_poll(self, resource: str, succeeded: bool) -> None:
        self.live_polls.labels(resource, "ok" if succeeded else "failed").inc()

    def live_event(self) -> None:
        self.live_events.inc()

    def response_cache_outcome(self, outcome: str) -> None:
        self.response_cache.labels(outcome=outcome).inc()

    def note_live(self, connections: int, subscriptions: int, cohorts: int, led: int) -> None:
        """The live layer's gauges, set when the metrics are read."""
        self.live_connections.set(connections)
        self.live_subscriptions.set(subscriptions)
        self.live_cohorts.set(cohorts)
        self.live_cohorts_led.set(led)

    # --- upstream calls: a CallObserver -----------------------------------------------
    def begin(self, operation: str, headers: dict[str, str]) -> object:
        return None

    def attempt(self, token: object, attempt: Attempt) -> None:
        status = str(attempt.status) if attempt.status is not None else attempt.outcome
        self.upstream_calls.labels(attempt.operation, status).inc()
        self.upstream_seconds.labels(attempt.operation).observe(attempt.seconds)
        if attempt.retrying:
            self.retries.labels(attempt.operation).inc()

    def end(self, token: object, error: BaseException | None) -> None:
        return None

    # --- the exposition ------------------------------------------------------------------
    def exposition(
        self, circuits: Callable[[], Mapping[str, str]], multiprocess_dir: str = ""
    ) -> tuple[bytes, str]:
        """The text format; with `multiprocess_dir`, the sum over every worker's samples."""
        for operation, state in circuits().items():
            self.circuit.labels(operation).set(0 if state == "closed" else 1)
        if multiprocess_dir:
            directory = multiprocess_dir
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
            return generate_latest(combined), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
