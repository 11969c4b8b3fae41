"""Tracing: a span per request and per upstream call, the caller's trace continued and
`traceparent` sent upstream (with the SDK's in-memory exporter)."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.types import Receive, Scope, Send

from gateway.app import create_app
from gateway.emulator import create_emulator_app, emulator_state
from gateway.ops.tracing import Tracing, tracing_from
from tests.gateway.conftest import gateway_settings
from tests.support import DEFAULT_EMULATOR, serving

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


async def test_spans_per_request_and_upstream_call_with_traceparent_upstream() -> None:
    emulator = create_emulator_app(DEFAULT_EMULATOR)
    state = emulator_state(emulator)
    seen: list[str | None] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            seen.append(headers.get(b"traceparent", b"").decode() or None)
        await emulator(scope, receive, send)

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tenant = next(t.id for t in state.tenants if t.role_hint == "cpo")
    async with serving(recording) as upstream_url:
        app = create_app(gateway_settings(upstream_url), tracing=Tracing(provider))
        async with serving(app) as url, httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                f"{url}/graphql",
                json={"query": "{ locations(first: 3) { nodes { id stations { stationId } } } }"},
                headers={
                    "Authorization": f"Bearer {state.access_tokens[tenant]}",
                    "traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01",
                },
            )
    assert "errors" not in response.json()
    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    clients = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert server.name == "POST /graphql"
    assert format(server.context.trace_id, "032x") == CALLER_TRACE  # the caller's trace
    assert sorted(s.name for s in clients) == ["upstream getLocations", "upstream getNetworkStatus"]
    assert all(s.parent is not None and s.parent.span_id == server.context.span_id for s in clients)
    assert len(spans) == 3  # never a span per field
    # Each upstream call carried its own span's traceparent, in the caller's trace.
    client_ids = {format(s.context.span_id, "016x") for s in clients}
    assert len(seen) == 2 and all(value and CALLER_TRACE in value for value in seen)
    assert {value.split("-")[2] for value in seen if value} == client_ids


def test_tracing_is_off_unless_asked() -> None:
    assert tracing_from("off") is None
    assert isinstance(tracing_from("console"), Tracing)
