"""`ObserveRequests`: one record per HTTP request, ending in a log line and metrics.

The middleware gives each request an id (the client's `X-Request-Id` when it is a sane
one, else a new one), echoes it in the answer, times the request, counts it in flight
and, for GraphQL, hands a `RequestRecord` to the view through the ASGI scope, which fills
in what only it knows: the operation name, the upstream calls spent, the error codes and
a short digest of the caller's token. At the end one line is logged (`event: request`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.ops.metrics import Metrics
from gateway.shared import credential_digest

log: Final = logging.getLogger("gateway.requests")
_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
GRAPHQL_PATHS: Final = ("/graphql",)


@dataclass
class RequestRecord:
    request_id: str
    operation: str | None = None
    upstream_calls: int = 0
    error_codes: list[str] = field(default_factory=list)
    caller: str | None = None  # 12 hex digits of sha256(token): which caller, not who
    limit: str | None = None  # the limit a refused document broke
    outcome: str | None = None  # ok, partial (data and errors), error (no data), refused

    def note_caller(self, token: str | None) -> None:
        if token is not None:
            self.caller = credential_digest(token)[:12]


def record_of(scope: Scope) -> RequestRecord | None:
    found = scope.get("state", {}).get("record")
    return found if isinstance(found, RequestRecord) else None


class ObserveRequests:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, tracing: Any = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        record = RequestRecord(request_id)
        scope.setdefault("state", {})["record"] = record
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        graphql = scope["path"] in GRAPHQL_PATHS
        started = time.perf_counter()
        if graphql:
            self.metrics.in_flight.inc()
        span: AbstractContextManager[Any] = (
            self.tracing.request_span(scope) if self.tracing is not None else nullcontext()
        )
        try:
            with span:
                await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            if graphql:
                self.metrics.in_flight.dec()
                self._count(record, status, seconds)
            self._log(scope, record, status, seconds)

    def _count(self, record: RequestRecord, status: int, seconds: float) -> None:
        metrics = self.metrics
        operation = metrics.operation_label(record.operation)
        outcome = record.outcome or ("refused" if status >= 400 else "ok")
        metrics.requests.labels(operation, outcome).inc()
        metrics.request_seconds.labels(operation).observe(seconds)
        if record.limit is not None:
            metrics.rejected.labels(record.limit).inc()

    @staticmethod
    def _log(scope: Scope, record: RequestRecord, status: int, seconds: float) -> None:
        milliseconds = round(seconds * 1000, 1)
        log.info(
            "%s %s %d %.1f ms%s",
            scope["method"],
            scope["path"],
            status,
            milliseconds,
            f" {record.operation}" if record.operation else "",
            extra={
                "event": "request",
                "requestId": record.request_id,
                "method": scope["method"],
                "path": scope["path"],  # the path only: no query string ever
                "status": status,
                "durationMs": milliseconds,
                "operation": record.operation,
                "upstreamCalls": record.upstream_calls,
                "errorCodes": sorted(set(record.error_codes)),
                "caller": record.caller,
            },
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None
