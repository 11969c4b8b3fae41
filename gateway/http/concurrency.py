"""`ConcurrencyLimit`: at most N requests in the app at once; the next one gets a 503.

A burst past what the process can serve would otherwise queue inside it, every request
slower than its deadline. A 503 with `Retry-After` and a GraphQL error body tells clients
(and a load balancer) to back off or go elsewhere, at once.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

BUSY = {
    "errors": [
        {
            "message": "The gateway is at its limit of concurrent requests; retry shortly.",
            "extensions": {"code": "OVERLOADED"},
        }
    ]
}


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, *, max_requests: int, paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_requests = max_requests
        self.paths = paths  # health checks stay outside the limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_requests:
            await _busy(send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _busy(send: Send) -> None:
    body = json.dumps(BUSY).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
