"""The `/_emulator/...` control endpoints, for demos and for tests in other processes.

Mounted only when `EmulatorConfig.admin` is on; they are not operations of the emulated
API, so they are neither counted nor delayed nor faulted, and need no token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .endpoint import emulator_state, error_response, json_response
from .faults import FAULT_KINDS, Fault
from .location_input import BodyError, decode
from .state import EmulatorState
from .wire import format_instant

_OK = {"success": True}
# Steps run on the event loop, a few milliseconds each: bound how long one call holds it.
MAX_STEPS_PER_CALL = 1000


async def _object(request: Request) -> dict[str, Any]:
    body = decode(await request.body())
    if not isinstance(body, dict):
        raise BodyError("Request body must be a JSON object")
    return body


def _integer(body: dict[str, Any], key: str, default: int | None, minimum: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BodyError(f"'{key}' must be an integer of at least {minimum}")
    return value


async def counters(request: Request) -> Response:
    return json_response({"counts": dict(emulator_state(request.app).counters)})


async def requests_log(request: Request) -> Response:
    log = emulator_state(request.app).requests
    return json_response(
        {"requests": [{"operation": op, "method": m, "path": p} for op, m, p in log]}
    )


async def reset(request: Request) -> Response:
    emulator_state(request.app).reset()
    return json_response(_OK)


async def reset_data(request: Request) -> Response:
    emulator_state(request.app).reset_data()
    return json_response(_OK)


async def add_fault(request: Request) -> Response:
    try:
        body = await _object(request)
        kind = body.get("kind", "status")
        if kind not in FAULT_KINDS:
            raise BodyError(f"'kind' must be one of {', '.join(FAULT_KINDS)}")
        fault = Fault(
            kind=kind,
            status=_integer(body, "status", 503, 400) or 503,
            retry_after=_integer(body, "retryAfter", None, 0),
            delay_ms=_integer(body, "delayMs", 0, 0) or 0,
        )
        operation = body.get("operation")
        if not isinstance(operation, str):
            raise BodyError("'operation' must be an operationId")
        # "times": null keeps the fault for ever; absent means once.
        times = _integer(body, "times", 1, 1)
        emulator_state(request.app).inject(operation, fault, times)
    except (BodyError, ValueError) as exc:
        return error_response(400, str(exc))
    return json_response(_OK)


async def set_cache_control(request: Request) -> Response:
    """`{"operation": id, "value": "max-age=60"}`: that operation's answers carry the
    header from now on; `"value": null` removes it; `/_emulator/reset` removes them all."""
    try:
        body = await _object(request)
        operation, value = body.get("operation"), body.get("value")
        if not isinstance(operation, str):
            raise BodyError("'operation' must be an operationId")
        if value is not None and not isinstance(value, str):
            raise BodyError("'value' must be a string or null")
        emulator_state(request.app).set_cache_control(operation, value)
    except (BodyError, ValueError) as exc:
        return error_response(400, str(exc))
    return json_response(_OK)


async def set_latency(request: Request) -> Response:
    try:
        ms = _integer(await _object(request), "ms", None, 0)
    except BodyError as exc:
        return error_response(400, str(exc))
    if ms is None:
        return error_response(400, "'ms' is required")
    emulator_state(request.app).latency_ms = ms
    return json_response(_OK)


async def set_page_size(request: Request) -> Response:
    try:
        size = _integer(await _object(request), "size", None, 1)
    except BodyError as exc:
        return error_response(400, str(exc))
    if size is None:
        return error_response(400, "'size' is required")
    emulator_state(request.app).page_size = size
    return json_response(_OK)


def _clock(state: EmulatorState) -> dict[str, Any]:
    return {
        "step": state.step,
        "now": format_instant(state.now),
        "stepSeconds": state.config.step_s,
        "tickSeconds": state.config.tick_s,
    }


async def clock(request: Request) -> Response:
    return json_response(_clock(emulator_state(request.app)))


async def advance_clock(request: Request) -> Response:
    """`{"steps": n}` (an empty body is one step): the world moves on by n steps."""
    try:
        body = await _object(request) if await request.body() else {}
        steps = _integer(body, "steps", 1, 1)
        if steps is None or steps > MAX_STEPS_PER_CALL:
            raise BodyError(f"'steps' must be an integer from 1 to {MAX_STEPS_PER_CALL}")
    except BodyError as exc:
        return error_response(400, str(exc))
    state = emulator_state(request.app)
    summary = state.advance(steps)
    return json_response(
        {
            **_clock(state),
            "sessionsStarted": len(summary.started),
            "sessionsEnded": len(summary.ended),
            "faults": len(summary.faulted),
            "recoveries": len(summary.recovered),
            "errorsRaised": len(summary.errors_raised),
            "errorsCleared": len(summary.errors_cleared),
        }
    )


async def tokens(request: Request) -> Response:
    state = emulator_state(request.app)
    return json_response(
        {
            "tenants": [
                {
                    "id": tenant.id,
                    "name": tenant.name,
                    "roleHint": tenant.role_hint,
                    "accessToken": state.access_tokens[tenant.id],
                    "refreshToken": state.refresh_tokens[tenant.id],
                }
                for tenant in state.tenants
            ]
        }
    )


async def revoke_token(request: Request) -> Response:
    """`{"token": "..."}`: the token is refused (401) from now on, as if revoked upstream."""
    try:
        token = (await _object(request)).get("token")
        if not isinstance(token, str) or not token:
            raise BodyError("'token' must be a non-empty string")
    except BodyError as exc:
        return error_response(400, str(exc))
    if not emulator_state(request.app).tokens.revoke(token):
        return error_response(404, "Unknown token")
    return json_response(_OK)


ADMIN_ROUTES: list[BaseRoute] = [
    Route("/_emulator/counters", counters, methods=["GET"]),
    Route("/_emulator/requests", requests_log, methods=["GET"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/reset-data", reset_data, methods=["POST"]),
    Route("/_emulator/faults", add_fault, methods=["POST"]),
    Route("/_emulator/cache-control", set_cache_control, methods=["POST"]),
    Route("/_emulator/latency", set_latency, methods=["PUT"]),
    Route("/_emulator/page-size", set_page_size, methods=["PUT"]),
    Route("/_emulator/tokens", tokens, methods=["GET"]),
    Route("/_emulator/tokens/revoke", revoke_token, methods=["POST"]),
    Route("/_emulator/clock", clock, methods=["GET"]),
    Route("/_emulator/clock/advance", advance_clock, methods=["POST"]),
]
