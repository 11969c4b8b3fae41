"""`/healthz` (the process answers) and `/readyz` (it can serve: the upstream answers and
no upstream operation's circuit is open).

Readiness asks nothing of the upstream while calls succeed: an answer within `fresh_s`
is proof enough. Otherwise it probes (`UpstreamClient.probe`: one tokenless call, any
answer below 500 means up), at most once per `probe_every_s`, so a load balancer polling
every second costs the upstream nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.upstream.client import UpstreamClient


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class Readiness:
    def __init__(
        self,
        upstream: Callable[[], UpstreamClient],
        *,
        fresh_s: float = 30.0,
        probe_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._upstream = upstream
        self._fresh_s = fresh_s
        self._probe_every_s = probe_every_s
        self._clock = clock
        self._probed_at: float | None = None
        self._probe_said = False

    async def answer(self, request: Request) -> Response:
        upstream = self._upstream()
        open_circuits = sorted(
            op for op, state in upstream.circuit_states().items() if state == "open"
        )
        reachable = await self._reachable(upstream)
        ready = reachable and not open_circuits
        body = {
            "status": "ready" if ready else "not ready",
            "upstream": "reachable" if reachable else "unreachable",
            "openCircuits": open_circuits,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def _reachable(self, upstream: UpstreamClient) -> bool:
        now = self._clock()
        last = upstream.last_success
        if last is not None and now - last <= self._fresh_s:
            return True
        if self._probed_at is None or now - self._probed_at >= self._probe_every_s:
            self._probe_said = await upstream.probe()
            self._probed_at = now
        return self._probe_said
