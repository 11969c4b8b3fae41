"""The gateway's error tree, each leaf with a stable GraphQL `extensions.code`.

    GatewayError
    ├── BadUserInput                BAD_USER_INPUT
    ├── QueryTooComplex             QUERY_TOO_COMPLEX
    ├── Unauthenticated             UNAUTHENTICATED   (no token, or the upstream said 401)
    ├── TooManySubscriptions        TOO_MANY_SUBSCRIPTIONS (a live limit of the gateway)
    ├── ShuttingDown                SHUTTING_DOWN     (a subscription ended by a shutdown)
    ├── IdempotencyUnavailable      IDEMPOTENCY_UNAVAILABLE (the shared key store is down)
    └── UpstreamError
        ├── Forbidden               FORBIDDEN
        ├── NotFound                NOT_FOUND
        ├── RateLimited             RATE_LIMITED      (429, carries Retry-After)
        ├── UpstreamUnavailable     UPSTREAM_UNAVAILABLE (5xx, connection refused or dropped)
        ├── UpstreamTimeout         UPSTREAM_TIMEOUT
        ├── UpstreamProtocolError   UPSTREAM_PROTOCOL_ERROR (non-JSON or mis-shaped body)
        └── UpstreamRejected        UPSTREAM_REJECTED (a 400, or a write answered without success)

Foreign exceptions (httpx, msgspec) are translated into this tree at the upstream
boundary; nothing above `gateway/upstream/` sees them. Messages are safe to show to
GraphQL clients: they never carry upstream bodies, headers, tokens or URLs with query
strings.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """Base of every error the gateway reports on purpose."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class BadUserInput(GatewayError):
    """An argument the gateway refuses before any upstream call; `field` names it.

    `problems` lists every invalid field at once when there are several (mutation input).
    """

    code = "BAD_USER_INPUT"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problems = problems or []

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> BadUserInput:
        """One error for several invalid fields: (field, message) each."""
        if len(problems) == 1:
            field, message = problems[0]
            return cls(message, field=field)
        message = " ".join(message for _, message in problems)
        return cls(message, field=problems[0][0], problems=problems)

    def extensions(self) -> dict[str, object]:
        extensions = super().extensions()
        if self.field is not None:
            extensions["field"] = self.field
        if self.problems:
            extensions["problems"] = [
                {"field": field, "message": message} for field, message in self.problems
            ]
        return extensions


class QueryTooComplex(GatewayError):
    """Refused or stopped for its size; `limit` names the bound (a metrics label, too)."""

    code = "QUERY_TOO_COMPLEX"

    def __init__(self, message: str, *, limit: str = "cost") -> None:
        super().__init__(message)
        self.limit = limit

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "limit": self.limit}


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class TooManySubscriptions(GatewayError):
    """Raised when a subscription would pass the live limit per credential."""

    code = "TOO_MANY_SUBSCRIPTIONS"


class ShuttingDown(GatewayError):
    """Ends a subscription because the gateway is stopping: the client may subscribe again
    (to another replica, or to this one once it is back)."""

    code = "SHUTTING_DOWN"


class IdempotencyUnavailable(GatewayError):
    """Raised when an `idempotencyKey` cannot be checked because the shared store is down:
    the write is refused rather than risk a second one, and nothing was sent upstream."""

    code = "IDEMPOTENCY_UNAVAILABLE"


class UpstreamError(GatewayError):
    """The upstream could not give an answer; `operation` names the upstream call."""

    code = "UPSTREAM_ERROR"

    def __init__(self, message: str, *, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


class Forbidden(UpstreamError):
    code = "FORBIDDEN"


class NotFound(UpstreamError):
    code = "NOT_FOUND"

    def __init__(self, kind: str, key: str, *, operation: str = "") -> None:
        shown = key if len(key) <= 80 else key[:80] + "…"
        super().__init__(f"{kind} {shown!r} was not found", operation=operation)
        self.kind = kind
        self.key = key


class RateLimited(UpstreamError):
    code = "RATE_LIMITED"

    def __init__(
        self, message: str, *, operation: str = "", retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, operation=operation)
        self.retry_after_s = retry_after_s

    def extensions(self) -> dict[str, object]:
        extensions = super().extensions()
        if self.retry_after_s is not None:
            extensions["retryAfterSeconds"] = self.retry_after_s
        return extensions


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(UpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamProtocolError(UpstreamError):
    code = "UPSTREAM_PROTOCOL_ERROR"


class UpstreamRejected(UpstreamError):
    code = "UPSTREAM_REJECTED"
