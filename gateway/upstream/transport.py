"""Sending one upstream operation: bearer per call, deadline, concurrency bound, retries.

Everything httpx can raise is translated here into the gateway's error tree; nothing
above this module sees an httpx exception. Messages name the operation and the status,
never a token, a body, a header or a query string.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Final

import httpx

from gateway.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import contract
from gateway.upstream.retry import RetryPolicy, parse_retry_after

logger: Final = logging.getLogger("gateway.upstream")

# Only these methods may be sent twice. Writes go out exactly once: a lost answer to a
# create may still have created the location, and a second one would duplicate it.
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One upstream operation: its OpenAPI operationId (for logs and errors) and route."""

    id: str
    method: str
    path: str

    @classmethod
    def of(cls, operation_id: str, route: tuple[str, str]) -> Operation:
        method, path = route
        return cls(operation_id, method, path)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS


QueryParams = list[tuple[str, str]]


def build_http_client(
    *,
    timeout_s: float,
    connect_timeout_s: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one pooled client per process, with explicit timeouts and pool limits.

    It holds no credentials, follows no redirects (a redirect could carry the bearer
    elsewhere), ignores proxy and netrc settings from the environment (only the CLI reads
    the environment), and stores no cookies: the client is shared by every tenant, and a
    cookie set in answer to one tenant must never ride along with another's request.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


def bearer_headers(token: str, *, body: bool = False) -> dict[str, str]:
    """Per-call headers. A missing or malformed token fails here, before any I/O.

    The check also keeps the token out of error messages: httpx would otherwise reject
    a header with control characters in an exception that quotes the value.
    """
    if not token or not token.isascii() or not token.isprintable() or token != token.strip():
        raise Unauthenticated("the bearer token is missing or malformed")
    headers = {
        "Authorization": f"{contract.BEARER_SCHEME} {token}",
        "Accept": "application/json",
    }
    if body:
        headers["Content-Type"] = "application/json"
    return headers


class Sender:
    """Sends requests for `UpstreamClient`: retries, deadline, bound and error mapping."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, policy: RetryPolicy, max_concurrency: int
    ) -> None:
        if "authorization" in http.headers or http.auth is not None:
            raise ValueError("the shared upstream client must not carry credentials")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self._slots = asyncio.Semaphore(max_concurrency)

    async def send(
        self,
        op: Operation,
        *,
        token: str,
        path: str | None = None,
        params: QueryParams | None = None,
        body: bytes | None = None,
        not_found: tuple[str, str] | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send `op` and return its 2xx answer, or raise an `UpstreamError` (or 401 →
        `Unauthenticated`). GETs are retried per the policy; writes are sent once.

        `deadline` is a `time.monotonic()` instant: no attempt starts and no backoff
        sleeps past it, and an attempt in flight is cut off when it arrives.
        """
        headers = bearer_headers(token, body=body is not None)
        url = self.base_url + (path if path is not None else op.path)
        attempts = self.policy.max_attempts if op.idempotent else 1
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._log(op, "deadline passed before sending", attempt, attempts, started, False)
                raise UpstreamTimeout(
                    f"upstream {op.id}: the request deadline passed", operation=op.id
                )
            request = self.http.build_request(
                op.method, url, params=tuple(params or ()), content=body, headers=headers
            )
            # The pooled client is shared by all tenants: never forward a stored cookie.
            request.headers.pop("Cookie", None)
            retry_after: float | None = None
            cause: BaseException | None = None
            try:
                async with asyncio.timeout(remaining):
                    async with self._slots:
                        response = await self.http.send(request, auth=None, follow_redirects=False)
            except httpx.TimeoutException as exc:
                cause = exc
                outcome = type(exc).__name__
                error: UpstreamError | Unauthenticated = UpstreamTimeout(
                    self._message(op, "timed out"), operation=op.id
                )
                # Nothing was sent on a connect or pool timeout, so a retry is harmless.
                nothing_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                retryable = nothing_sent or self.policy.retry_read_timeouts
            except TimeoutError as exc:  # the caller's deadline, from asyncio.timeout
                cause = exc
                outcome = "deadline reached in flight"
                error = UpstreamTimeout(
                    self._message(op, "the request deadline passed"), operation=op.id
                )
                retryable = False
            except httpx.TransportError as exc:
                cause = exc
                outcome = type(exc).__name__
                error = UpstreamUnavailable(self._message(op, "connection failed"), operation=op.id)
                retryable = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
            else:
                if response.is_success:
                    logger.debug(
                        "upstream %s answered %d in %.0f ms",
                        op.id,
                        response.status_code,
                        (time.monotonic() - started) * 1000,
                    )
                    return response
                outcome = f"status {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                error = self._status_error(op, response.status_code, retry_after, not_found)
                retryable = response.status_code in self.policy.retry_statuses

            delay = None
            if retryable and attempt < attempts:
                delay = self.policy.delay_s(attempt, retry_after)
                # Never sleep into the deadline: the retry could not finish anyway.
                late = deadline is not None and time.monotonic() + (delay or 0.0) >= deadline
                if late:
                    delay = None
            self._log(op, outcome, attempt, attempts, started, delay is not None)
            if delay is None:
                raise error from cause
            await asyncio.sleep(delay)

    @staticmethod
    def _message(op: Operation, what: str) -> str:
        if op.idempotent:
            return f"upstream {op.id}: {what}"
        return f"upstream {op.id}: {what}; the change may or may not have been applied"

    def _status_error(
        self,
        op: Operation,
        status: int,
        retry_after: float | None,
        not_found: tuple[str, str] | None,
    ) -> UpstreamError | Unauthenticated:
        answered = f"upstream {op.id} answered {status}"
        if status == 401:
            return Unauthenticated(f"{answered}: the token is invalid, expired or not allowed")
        if status == 403:
            return Forbidden(answered, operation=op.id)
        if status == 404:
            kind, key = not_found or ("upstream resource", op.path)
            return NotFound(kind, key, operation=op.id)
        if status == 429:
            return RateLimited(answered, operation=op.id, retry_after_s=retry_after)
        if 500 <= status <= 599:
            return UpstreamUnavailable(self._message(op, f"answered {status}"), operation=op.id)
        if 400 <= status <= 499:
            return UpstreamRejected(answered, operation=op.id)
        # 1xx and 3xx: redirects are not followed, so the answer is not one we understand.
        return UpstreamProtocolError(answered, operation=op.id)

    @staticmethod
    def _log(
        op: Operation, outcome: str, attempt: int, attempts: int, started: float, retrying: bool
    ) -> None:
        logger.warning(
            "upstream %s failed: %s after %.0f ms (attempt %d of %d)%s",
            op.id,
            outcome,
            (time.monotonic() - started) * 1000,
            attempt,
            attempts,
            "; retrying" if retrying else "",
        )
