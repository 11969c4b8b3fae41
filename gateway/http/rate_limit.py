"""`RateLimit`: requests per credential, counted in the shared state, so across replicas.

Each credential (a SHA-256 digest of its bearer token, never the token) has one GCRA
bucket: `burst` requests at once, refilled at `per_minute`. A refused request gets 429,
`Retry-After` and a GraphQL error `RATE_LIMITED` with `extensions.retryAfterSeconds`;
every counted answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset`. Requests without a token are not counted: they are refused without an
upstream call anyway. When the store cannot answer (within its timeout), the request is
let through: an outage of Redis must not become an outage of the gateway.

A credential the upstream itself answered 429 (`shared.HoldOff`, in the app's state as
`hold_off`) is refused the same way, before its bucket is touched, until the upstream's
`Retry-After` has passed; that works with `per_minute` 0 too (no bucket, hold-off only).
"""

from __future__ import annotations

import json
import logging
import math
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.auth import bearer_of
from gateway.shared import Allowance, SharedState, SharedStateError, credential_digest
from gateway.shared.hold_off import HoldOff

log = logging.getLogger("gateway.rate_limit")
WARN_EVERY_S = 60.0  # one log line a minute while the store is down, not one a request


class RateLimit:
    def __init__(
        self, app: ASGIApp, *, per_minute: float, burst: int, paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.per_s = per_minute / 60  # 0: no bucket, upstream hold-offs only
        self.burst = burst or max(1, math.ceil(per_minute))
        self.paths = paths
        self._warned_at = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        shared: SharedState | None = state.get("shared")
        hold_off: HoldOff | None = state.get("hold_off")
        token = None
        if scope["type"] == "http" and scope["path"] in self.paths and shared is not None:
            token = bearer_of(Headers(scope=scope).get("authorization"))
        if token is None or shared is None:
            await self.app(scope, receive, send)
            return
        try:
            held = None if hold_off is None else await hold_off.held_for(token)
            if held is not None:
                await _refuse(send, [], _seconds(held), UPSTREAM_THROTTLED)
                return
            if self.per_s <= 0:
                await self.app(scope, receive, send)
                return
            digest = credential_digest(token)
            allowance = await shared.gcra(f"rate:{digest}", per_s=self.per_s, burst=self.burst)
        except SharedStateError as exc:
            self._warn(exc)
            await self.app(scope, receive, send)
            return
        headers = self._headers(allowance)
        if not allowance.allowed:
            await _refuse(send, headers, _seconds(allowance.retry_after_s), PAST_RATE)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, allowance: Allowance) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.burst).encode()),
            (b"ratelimit-remaining", str(allowance.remaining).encode()),
            (b"ratelimit-reset", str(_seconds(allowance.reset_s)).encode()),
        ]

    def _warn(self, exc: SharedStateError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("rate limits not enforced, the shared state is unreachable: %s", exc)


def _seconds(value: float) -> int:
    return max(1, math.ceil(value)) if value > 0 else 0


PAST_RATE = "Too many requests for this credential; retry later."
UPSTREAM_THROTTLED = "The upstream is throttling this credential; retry later."


async def _refuse(
    send: Send, headers: list[tuple[bytes, bytes]], retry_after: int, message: str
) -> None:
    retry_after = max(retry_after, 1)
    body = json.dumps(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": retry_after},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
