"""`RateLimit`: requests per credential, counted in the shared state, so across replicas.

Each credential (a SHA-256 digest of its bearer token, never the token) has one GCRA
bucket: `burst` requests at once, refilled at `per_minute`. A refused request gets 429,
`Retry-After` and a GraphQL error `RATE_LIMITED` with `extensions.retryAfterSeconds`;
every counted answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset`. Requests without a token are not counted: they are refused without an
upstream call anyway. When the store cannot answer (within its timeout), the request is
let through: an outage of Redis must not become an outage of the gateway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.auth import bearer_of
from gateway.shared import Allowance, SharedState, SharedStateError

log = logging.getLogger("gateway.rate_limit")
WARN_EVERY_S = 60.0  # one log line a minute while the store is down, not one a request


class RateLimit:
    def __init__(
        self, app: ASGIApp, *, per_minute: float, burst: int, paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.per_s = per_minute / 60
        self.burst = burst or max(1, math.ceil(per_minute))
        self.paths = paths
        self._warned_at = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        shared: SharedState | None = scope.get("state", {}).get("shared")
        token = None
        if scope["type"] == "http" and scope["path"] in self.paths and shared is not None:
            token = bearer_of(Headers(scope=scope).get("authorization"))
        if token is None or shared is None:
            await self.app(scope, receive, send)
            return
        digest = hashlib.sha256(token.encode()).hexdigest()
        try:
            allowance = await shared.gcra(f"rate:{digest}", per_s=self.per_s, burst=self.burst)
        except SharedStateError as exc:
            self._warn(exc)
            await self.app(scope, receive, send)
            return
        headers = self._headers(allowance)
        if not allowance.allowed:
            await _refuse(send, headers, _seconds(allowance.retry_after_s))
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


async def _refuse(send: Send, headers: list[tuple[bytes, bytes]], retry_after: int) -> None:
    retry_after = max(retry_after, 1)
    body = json.dumps(
        {
            "errors": [
                {
                    "message": "Too many requests for this credential; retry later.",
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
