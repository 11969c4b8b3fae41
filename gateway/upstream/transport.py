"""Sending one upstream operation: the one seam between the gateway and httpx.

`Sender.send` gives every call, in this order: the caller's bearer (never a shared one),
a request built without a cookie, the operation's circuit breaker (`breaker.py`: fail
fast while the upstream keeps failing), a slot of the concurrency bound, the caller's
deadline, and a body read of at most `max_body_bytes`. GETs are retried per the
`RetryPolicy`; writes go out exactly once. Redirects are never followed.

Everything httpx can raise is translated here into the gateway's error tree; nothing
above this module sees an httpx exception. Under the httpx API, the default transport is
aiohttp's (`aiohttp_transport.py`), which raises the same httpx exceptions as httpcore.
Messages name the operation and the status (or the limit), never a token, a body, a
header, a URL or a query string.

Why the body is streamed: reading an answer whole puts whatever the far side sends in
memory, and a runaway upstream (or anything answering in its place) can send hundreds of
megabytes. Reading it chunk by chunk stops at the limit, inside the same deadline and
slot as the rest of the call, and closes the connection instead of pooling it half-read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Final, Literal
from urllib.parse import urlencode

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
from gateway.upstream.aiohttp_transport import AiohttpTransport
from gateway.upstream.breaker import BreakerPolicy, Breakers, CircuitState, Verdict
from gateway.upstream.observe import Attempt, CallObserver, LogFailures
from gateway.upstream.response_cache import Fetched, ResponseCache
from gateway.upstream.retry import RetryPolicy, parse_retry_after

logger: Final = logging.getLogger("gateway.upstream")

# Only these methods may be sent twice. Writes go out exactly once: a lost answer to a
# create may still have created the location, and a second one would duplicate it.
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD"})

# The largest answer read into memory. The largest realistic page of the contract is the
# unpaginated `GET /locations`: the emulator's rows average ~650 bytes, so a network of
# 5,000 locations answers ~3.3 MB. A status page of 50 locations with their stations and
# EVSEs is ~3.3 KB a location (~170 KB), and `GET /stations` for 100 ids ~150 KB. 8 MiB
# leaves room for ~12,000 locations, and caps what one call can hold at a size that 32
# concurrent calls (the default bound) can hold at once (256 MiB) without harm.
DEFAULT_MAX_BODY_BYTES: Final = 8 * 1024 * 1024


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

# Told of every 429 the upstream answers: the caller's token and the Retry-After, if any,
# so that the credential can be held off up front (the app gives `shared.HoldOff`'s).
Throttled = Callable[[str, float | None], Awaitable[None]]


# Which HTTP/1.1 stack sends upstream calls, under the same httpx API: "aiohttp" (the
# default, `aiohttp_transport.py`: measured through the Sender, about half the CPU per call
# of httpcore one at a time, and a quarter at 32 concurrent calls) or "httpx" (httpcore's
# own pool, kept as a tested fallback).
TransportKind = Literal["aiohttp", "httpx"]
TRANSPORT_KINDS: Final[tuple[TransportKind, ...]] = ("aiohttp", "httpx")
DEFAULT_TRANSPORT_KIND: Final[TransportKind] = "aiohttp"


def checked_transport(kind: str) -> TransportKind:
    """A configured transport name, or ValueError naming the ones there are."""
    if kind not in TRANSPORT_KINDS:
        raise ValueError(f"upstream transport must be one of {', '.join(TRANSPORT_KINDS)}")
    return kind


def build_http_client(
    *,
    timeout_s: float,
    connect_timeout_s: float,
    max_connections: int,
    transport_kind: TransportKind = DEFAULT_TRANSPORT_KIND,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The one pooled client per process, with explicit timeouts and pool limits.

    It holds no credentials, follows no redirects (a redirect could carry the bearer
    elsewhere), ignores proxy and netrc settings from the environment (only the CLI reads
    the environment), and stores no cookies: the client is shared by every tenant, and a
    cookie set in answer to one tenant must never ride along with another's request.

    `transport_kind` picks the stack underneath (see `TransportKind`); both keep all of
    the above. `transport`, given, replaces it (tests use `httpx.MockTransport`). Call it
    inside the running loop that will use it, and close the client (`async with`): that
    closes the aiohttp session too.
    """
    if transport is None and transport_kind == "aiohttp":
        # The limits httpx would give its own pool; the cookie jar and trust_env are the
        # transport's own (aiohttp keeps a jar and reads proxies unless told not to).
        transport = AiohttpTransport(max_connections=max_connections)
    elif transport_kind not in TRANSPORT_KINDS:
        raise ValueError(f"unknown transport kind {transport_kind!r}")
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


@dataclass(frozen=True, slots=True)
class _Failure:
    """One failed attempt: the error to raise, and what the retry loop and breaker need."""

    error: UpstreamError | Unauthenticated
    outcome: str  # for the log line: a status or an exception name, never a URL
    verdict: Verdict
    status: int | None = None
    retryable: bool = False
    retry_after: float | None = None
    cause: BaseException | None = None


class Sender:
    """Sends requests for `UpstreamClient`: retries, deadline, bound, body limit, circuit
    breakers and error mapping.

    `max_body_bytes` caps every answer read into memory (see `DEFAULT_MAX_BODY_BYTES`).
    `breaker` governs the per-operation circuit breakers (`breaker.py`); `clock` is
    theirs, a `time.monotonic` stand-in for tests. Deadlines always use `time.monotonic`.
    `on_throttled` hears of each 429, before the call retries or fails.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        policy: RetryPolicy,
        max_concurrency: int,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        breaker: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        observers: Sequence[CallObserver] | None = None,
        cache: ResponseCache | None = None,
        on_throttled: Throttled | None = None,
    ) -> None:
        if "authorization" in http.headers or http.auth is not None:
            raise ValueError("the shared upstream client must not carry credentials")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self._slots = asyncio.Semaphore(max_concurrency)
        # One breaker per operation for the whole process, shared by every tenant: see
        # breaker.py for why nothing one tenant causes can open it for the others.
        self.breakers = Breakers(breaker or BreakerPolicy(), clock)
        self.observers: list[CallObserver] = list(observers or [LogFailures()])
        self.last_success: float | None = None  # monotonic time of the last 2xx answer
        self.cache = cache  # reads served again per credential (response_cache.py)
        self.on_throttled = on_throttled

    async def probe(self, op: Operation, *, timeout_s: float) -> bool:
        """`op` sent once without credentials: True when any answer below 500 comes back."""
        request = self.http.build_request(op.method, self.base_url + op.path)
        try:
            async with asyncio.timeout(timeout_s):
                response = await self.http.send(request, auth=None, follow_redirects=False)
        except (httpx.HTTPError, TimeoutError):
            return False
        return response.status_code < 500

    def circuit_state(self, op: Operation) -> CircuitState:
        return self.breakers.state_of(op.id)

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
        """Send `op` and return its 2xx answer, body read, or raise an `UpstreamError` (or
        401 → `Unauthenticated`). GETs are retried per the policy; writes are sent once.

        `deadline` is a `time.monotonic()` instant: no attempt starts and no backoff
        sleeps past it, and an attempt in flight (body included) is cut off when it
        arrives. While the operation's circuit is open, attempts fail fast without I/O.
        """
        cache = self.cache
        route = (op.method, op.path)
        if cache is not None and body is None and cache.fresh_for(route) > 0:
            target = (path or op.path) + "?" + urlencode(params or [])

            async def fetch() -> Fetched:
                response = await self._observed(op, token, path, params, body, not_found, deadline)
                return Fetched(response.content, response.headers.get("cache-control"))

            body = await cache.read(route, token, target, fetch, deadline=deadline)
            return httpx.Response(200, content=body)
        try:
            return await self._observed(op, token, path, params, body, not_found, deadline)
        finally:
            # After any write, even one whose outcome is unknown: it may have landed.
            if cache is not None and not op.idempotent:
                await cache.written(route, token)

    async def _observed(
        self,
        op: Operation,
        token: str,
        path: str | None,
        params: QueryParams | None,
        body: bytes | None,
        not_found: tuple[str, str] | None,
        deadline: float | None,
    ) -> httpx.Response:
        headers = bearer_headers(token, body=body is not None)
        tokens = [observer.begin(op.id, headers) for observer in self.observers]
        error: BaseException | None = None
        try:
            return await self._send(
                op, token, headers, path, params, body, not_found, deadline, tokens
            )
        except BaseException as failed:
            error = failed
            raise
        finally:
            for observer, observed in zip(self.observers, tokens, strict=True):
                observer.end(observed, error)

    async def _send(
        self,
        op: Operation,
        token: str,
        headers: dict[str, str],
        path: str | None,
        params: QueryParams | None,
        body: bytes | None,
        not_found: tuple[str, str] | None,
        deadline: float | None,
        tokens: list[object],
    ) -> httpx.Response:
        request = self._request(op, path, params, body, headers)
        breaker = self.breakers.of(op.id)
        attempts = self.policy.max_attempts if op.idempotent else 1
        started = time.monotonic()
        attempt = 0
        failure: _Failure | None = None
        while True:
            attempt += 1
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._observe(tokens, op, attempt, attempts, started, None, "deadline passed")
                raise UpstreamTimeout(
                    f"upstream {op.id}: the request deadline passed", operation=op.id
                )
            permit = breaker.admit()
            if permit is None:
                # Opened by other calls while this one waited to retry: report what this
                # call met itself. Otherwise nothing was sent, not even a write.
                logger.debug("upstream %s: not sent, the circuit is open", op.id)
                if failure is not None:
                    raise failure.error from failure.cause
                raise UpstreamUnavailable(
                    f"upstream {op.id}: not sent, the circuit is open after repeated failures",
                    operation=op.id,
                )
            verdict = Verdict.UNKNOWN  # what a cancelled attempt tells the breaker
            tried = time.monotonic()
            try:
                result = await self._attempt(op, request, remaining, not_found)
                verdict = result.verdict if isinstance(result, _Failure) else Verdict.HEALTHY
            finally:
                breaker.record(permit, verdict)
            if not isinstance(result, _Failure):
                self.last_success = time.monotonic()
                self._observe(tokens, op, attempt, attempts, tried, result.status_code, "ok")
                return result

            failure = result
            if failure.status == 429 and self.on_throttled is not None:
                # Awaited, so that the hold is in place before this caller hears of it.
                await self.on_throttled(token, failure.retry_after)
            delay = None
            # Per attempt, not per call: a retry is one more attempt the breaker judges, so
            # a circuit this call's failures just opened stops its retries too.
            if failure.retryable and attempt < attempts and breaker.would_admit():
                delay = self.policy.delay_s(attempt, failure.retry_after)
                # Never sleep into the deadline: the retry could not finish anyway.
                late = deadline is not None and time.monotonic() + (delay or 0.0) >= deadline
                if late:
                    delay = None
            self._observe(
                tokens,
                op,
                attempt,
                attempts,
                tried,
                failure.status,
                failure.outcome,
                retrying=delay is not None,
                expected=isinstance(failure.error, NotFound),
            )
            if delay is None:
                raise failure.error from failure.cause
            await asyncio.sleep(delay)

    def _request(
        self,
        op: Operation,
        path: str | None,
        params: QueryParams | None,
        body: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Request:
        """The request, built once for all attempts (its body is bytes, so resendable).

        A URL httpx refuses (too long, say, from a 500,000-character id) is a request the
        gateway could not form, not an upstream outage: `UpstreamRejected`, without the
        URL, and without troubling the breaker.
        """
        url = self.base_url + (path if path is not None else op.path)
        try:
            request = self.http.build_request(
                op.method, url, params=tuple(params or ()), content=body, headers=headers
            )
        except httpx.InvalidURL as exc:
            raise UpstreamRejected(
                f"upstream {op.id}: the request could not be formed (invalid URL)",
                operation=op.id,
            ) from exc
        # The pooled client is shared by all tenants: never forward a stored cookie.
        request.headers.pop("Cookie", None)
        return request

    async def _attempt(
        self,
        op: Operation,
        request: httpx.Request,
        remaining: float | None,
        not_found: tuple[str, str] | None,
    ) -> httpx.Response | _Failure:
        """One attempt: the answer with its body read, or how it failed."""
        try:
            async with asyncio.timeout(remaining):
                # The slot is held until the body is read: it bounds connections in use.
                async with self._slots:
                    response = await self.http.send(
                        request, auth=None, follow_redirects=False, stream=True
                    )
                    fits = await self._read_body(response)
        except httpx.TimeoutException as exc:
            # Nothing was sent on a connect or pool timeout, so a retry is harmless.
            nothing_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            return _Failure(
                UpstreamTimeout(self._message(op, "timed out"), operation=op.id),
                type(exc).__name__,
                Verdict.UNWELL,
                retryable=nothing_sent or self.policy.retry_read_timeouts,
                cause=exc,
            )
        except TimeoutError as exc:  # the caller's deadline, from asyncio.timeout
            # The caller's budget ran out, which says nothing of the upstream: a hang is
            # caught by httpx's own timeout, shorter than a request's deadline.
            return _Failure(
                UpstreamTimeout(self._message(op, "the request deadline passed"), operation=op.id),
                "deadline reached in flight",
                Verdict.UNKNOWN,
                cause=exc,
            )
        except httpx.TransportError as exc:
            return _Failure(
                UpstreamUnavailable(self._message(op, "connection failed"), operation=op.id),
                type(exc).__name__,
                Verdict.UNWELL,
                retryable=isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError),
                cause=exc,
            )
        except httpx.InvalidURL as exc:
            # A URL httpx built but the aiohttp transport's parser refused: as in `_request`,
            # a request the gateway could not form, no verdict on the upstream's health.
            return _Failure(
                UpstreamRejected(
                    f"upstream {op.id}: the request could not be formed (invalid URL)",
                    operation=op.id,
                ),
                type(exc).__name__,
                Verdict.UNKNOWN,
                cause=exc,
            )
        except httpx.DecodingError as exc:  # a Content-Encoding the body does not match
            return _Failure(
                UpstreamProtocolError(
                    f"upstream {op.id} answered with a body that could not be decoded",
                    operation=op.id,
                ),
                type(exc).__name__,
                Verdict.UNWELL,
                cause=exc,
            )
        if response.is_success:
            if fits:
                return response
            # Not retried: a body that big will be big again. Nor held against the
            # upstream: its size follows the tenant's data, not the upstream's health.
            return _Failure(
                UpstreamProtocolError(
                    f"upstream {op.id} answered with a body over the limit of "
                    f"{self.max_body_bytes} bytes",
                    operation=op.id,
                ),
                f"body over {self.max_body_bytes} bytes",
                Verdict.UNKNOWN,
            )
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return _Failure(
            self._status_error(op, status, retry_after, not_found),
            f"status {status}",
            _status_verdict(status),
            status=status,
            retryable=status in self.policy.retry_statuses,
            retry_after=retry_after,
        )

    async def _read_body(self, response: httpx.Response) -> bool:
        """Read the streamed answer into `response.content`, up to `max_body_bytes`.

        A declared `Content-Length` over the limit is refused before reading; otherwise
        the decoded bytes are counted as they arrive, so a compressed body is held to the
        limit too (give or take one decoded chunk: httpx inflates a network read whole,
        at most ~1000 times its 64 KiB). Over the limit: the response is closed, which
        drops its connection rather than returning it to the pool half-read, and this
        answers False. Any failure while reading closes the response too.
        """
        limit = self.max_body_bytes
        try:
            declared = _declared_length(response)
            if declared is not None and declared > limit:
                await response.aclose()
                return False
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
            if size > limit:
                await response.aclose()
                return False
        except BaseException:
            await response.aclose()
            raise
        # What `Response.aread` does once the stream is read: `.content` is what the
        # decoders in client.py read.
        response._content = b"".join(chunks)
        return True

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

    def _observe(
        self,
        tokens: list[object],
        op: Operation,
        number: int,
        attempts: int,
        started: float,
        status: int | None,
        outcome: str,
        *,
        retrying: bool = False,
        expected: bool = False,
    ) -> None:
        attempt = Attempt(
            op.id,
            number,
            attempts,
            time.monotonic() - started,
            status,
            outcome,
            retrying,
            expected,
        )
        for observer, token in zip(self.observers, tokens, strict=True):
            observer.attempt(token, attempt)


def _status_verdict(status: int) -> Verdict:
    """What an answer's status says about the upstream's health (see breaker.py)."""
    if status == 429:
        return Verdict.UNKNOWN  # throttling is per token: one tenant's quota, not an outage
    if 400 <= status <= 499:
        return Verdict.HEALTHY  # answered on purpose
    return Verdict.UNWELL  # 5xx, and 1xx/3xx answers we cannot understand


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
