"""What every emulated operation does around its handler, in this order: count the request,
wait the configured latency, play an injected fault, check the bearer token, answer.

Handlers raise ApiError, AuthError, QueryError, BodyError or PageTokenError; this module
turns each into the JSON error answer `{"message": ...}` with its status.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .auth import AuthError
from .faults import HUGE_PREFIX, HUGE_SUFFIX, BodyMeter, Fault
from .location_input import BodyError
from .paging import PageTokenError
from .params import Query, QueryError
from .state import EmulatorState

# A body cut off mid-object: not JSON, though labelled so.
MALFORMED_BODY = b'{"locations": [{"id": "6f1c2a7e-0000-4000-8000-0000000'


class ApiError(Exception):
    """Raised by a handler to answer `status` with `message` (e.g. 404 for an invisible id)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request, as a handler sees it."""

    request: Request
    state: EmulatorState
    tenant_id: str

    def query(self, *allowed: str, strict: bool = True) -> Query:
        """The query string; `strict`: refuse unknown parameters (answer 400)."""
        return Query(self.request.query_params.multi_items(), allowed, strict=strict)


Handler = Callable[[Call], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def emulator_state(app: Starlette) -> EmulatorState:
    """The state of an app made by `create_emulator_app`."""
    return cast(EmulatorState, app.state.emulator)


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"message": message}, status, headers)


class DroppedResponse(Response):
    """Starts an answer and returns without its body, so the server closes the connection.

    ASGI has no message for "abort": a server (uvicorn here) closes the socket when an app
    returns mid-answer, and the client sees the connection end before the promised body.
    """

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )


# One row of a `huge` body: every row the same length, so the size comes out exact.
HUGE_ROW = b'{"id": "huge-%010d", "name": "Row %010d of an oversized answer"}'
HUGE_ROW_BYTES = len(HUGE_ROW % (0, 0))
HUGE_CHUNK_BYTES = 64 * 1024


async def huge_body(meter: BodyMeter) -> AsyncIterator[bytes]:
    """Exactly `meter.size_bytes` of valid JSON, `{"locations": [rows...] padding}`, one
    chunk of about 64 KiB at a time, made only when the server asks for the next one."""
    try:
        room = meter.size_bytes - len(HUGE_PREFIX) - len(HUGE_SUFFIX)
        rows = (room + 2) // (HUGE_ROW_BYTES + 2) if room >= HUGE_ROW_BYTES else 0
        padding = room - (rows * (HUGE_ROW_BYTES + 2) - 2 if rows else 0)
        per_chunk = HUGE_CHUNK_BYTES // (HUGE_ROW_BYTES + 2)
        chunk = HUGE_PREFIX
        for first in range(0, rows, per_chunk):
            numbers = range(first, min(first + per_chunk, rows))
            chunk += b", ".join(HUGE_ROW % (i, i) for i in numbers)
            if numbers.stop < rows:
                chunk += b", "
            yield await _metered(meter, chunk)
            chunk = b""
        while padding > HUGE_CHUNK_BYTES:  # JSON allows any amount of whitespace
            yield await _metered(meter, chunk + b" " * HUGE_CHUNK_BYTES)
            chunk = b""
            padding -= HUGE_CHUNK_BYTES
        yield await _metered(meter, chunk + b" " * padding + HUGE_SUFFIX)
    finally:
        meter.finished.set()


async def _metered(meter: BodyMeter, chunk: bytes) -> bytes:
    # Once the client is gone uvicorn's send returns at once, without awaiting: this
    # pause is where the server's disconnect handling gets to cancel the stream.
    await asyncio.sleep(0)
    meter.sent_bytes += len(chunk)
    return chunk


def huge_response(fault: Fault, meter: BodyMeter) -> Response:
    headers = None if fault.chunked else {"Content-Length": str(fault.size_bytes)}
    return StreamingResponse(huge_body(meter), headers=headers, media_type="application/json")


def fault_response(fault: Fault) -> Response:
    if fault.kind == "drop":
        return DroppedResponse()
    if fault.kind == "malformed":
        return Response(MALFORMED_BODY, media_type="application/json")
    headers = None if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    try:
        message = HTTPStatus(fault.status).phrase
    except ValueError:  # a status without a standard name, e.g. 599
        message = f"Error {fault.status}"
    return error_response(fault.status, message, headers)


def path_with_query(request: Request) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{request.url.path}?{query}" if query else request.url.path


def operation(operation_id: str, handler: Handler, *, refresh: bool = False) -> Endpoint:
    """A Starlette endpoint for one operation; `refresh`: it takes a refresh token."""

    async def endpoint(request: Request) -> Response:
        state = emulator_state(request.app)
        state.record(operation_id, request.method, path_with_query(request))
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            return await answer(request, state)
        finally:
            state.in_flight -= 1

    async def answer(request: Request, state: EmulatorState) -> Response:
        if state.latency_ms > 0:
            await asyncio.sleep(state.latency_ms / 1000)
        fault = state.faults.take(operation_id)
        if fault is not None:
            if fault.kind == "huge":
                return huge_response(fault, state.faults.meter(operation_id, fault))
            if fault.kind != "delay":
                return fault_response(fault)
            await asyncio.sleep(fault.delay_ms / 1000)
        try:
            tenant_id = state.tokens.tenant_of(
                request.headers.get("authorization"), state.clock(), refresh=refresh
            )
            response = await handler(Call(request, state, tenant_id))
        except AuthError as exc:
            return error_response(401, str(exc), {"WWW-Authenticate": "Bearer"})
        except (QueryError, BodyError, PageTokenError) as exc:
            return error_response(400, str(exc))
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        cache_control = state.cache_control.get(operation_id)
        if cache_control is not None:
            response.headers["Cache-Control"] = cache_control
        return response

    endpoint.__name__ = operation_id
    return endpoint
