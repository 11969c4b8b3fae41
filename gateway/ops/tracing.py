"""OpenTelemetry tracing, off by default: a span per request and per upstream call.

Never a span per field: a dashboard resolves thousands of fields, and a trace of them
would cost more than the request. The request's span continues the caller's trace (W3C
`traceparent` in), each upstream call is a child span, and its `traceparent` goes
upstream, so the ChargEye side of a call joins the same trace. Install the `otel` extra
(`pip install chargeye-gateway[otel]`) and set `GATEWAY_TRACING` to `console` (spans on
stderr) or `otlp` (OTLP over HTTP; the exporter reads the standard `OTEL_EXPORTER_OTLP_*`
variables).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from starlette.types import Scope

from gateway.upstream.observe import Attempt


class Tracing:
    """Spans from one tracer provider (the app's, or a test's in-memory one)."""

    def __init__(self, provider: Any) -> None:
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._tracer = provider.get_tracer("chargeye-gateway")
        self._propagator = TraceContextTextMapPropagator()
        self._server = SpanKind.SERVER
        self._client = SpanKind.CLIENT

    def request_span(self, scope: Scope) -> AbstractContextManager[Any]:
        carrier = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        parent = self._propagator.extract(carrier)
        span: AbstractContextManager[Any] = self._tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}",
            context=parent,
            kind=self._server,
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        )
        return span

    # --- upstream calls: a CallObserver --------------------------------------------------
    def begin(self, operation: str, headers: dict[str, str]) -> object:
        from opentelemetry.trace import set_span_in_context

        span = self._tracer.start_span(
            f"upstream {operation}", kind=self._client, attributes={"upstream.operation": operation}
        )
        self._propagator.inject(headers, context=set_span_in_context(span))
        return span

    def attempt(self, token: object, attempt: Attempt) -> None:
        span: Any = token
        span.add_event(
            "attempt",
            {"number": attempt.number, "outcome": attempt.outcome, "retrying": attempt.retrying},
        )
        if attempt.status is not None:
            span.set_attribute("http.response.status_code", attempt.status)

    def end(self, token: object, error: BaseException | None) -> None:
        from opentelemetry.trace import Status, StatusCode

        span: Any = token
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


def tracing_from(kind: str) -> Tracing | None:
    """The tracing a setting asks for; `off` (the default) is none at all."""
    if kind == "off":
        return None
    if kind not in ("console", "otlp"):
        raise ValueError("tracing must be off, console or otlp")
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError as missing:
        raise ValueError(
            "tracing needs the otel extra: pip install 'chargeye-gateway[otel]'"
        ) from missing
    provider = TracerProvider()
    if kind == "console":
        exporter: Any = ConsoleSpanExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError as missing:
            raise ValueError(
                "tracing=otlp needs opentelemetry-exporter-otlp-proto-http installed"
            ) from missing
        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(provider)
