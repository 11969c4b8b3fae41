"""`CallObserver`: what the operations side learns of every upstream call, at one seam.

The `Sender` tells its observers when a call begins (they may add headers to it, such as
a W3C `traceparent`), how each attempt went, and when the call ends. Metrics, logs and
traces are observers (`gateway/ops/`); the upstream room knows none of them. An
observation names the operation and the status or failure, never a URL, a query string,
a body or a token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final, Protocol

logger: Final = logging.getLogger("gateway.upstream")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of an upstream call and how it ended."""

    operation: str  # the OpenAPI operationId
    number: int  # 1 for the first attempt
    of: int  # attempts allowed for this call
    seconds: float
    status: int | None  # the HTTP status, when there was an answer
    outcome: str  # "ok", "status 503", an exception name, "deadline reached in flight" …
    retrying: bool  # another attempt follows
    expected: bool = False  # a failure that is an answer, not trouble (a 404 lookup)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class CallObserver(Protocol):
    def begin(self, operation: str, headers: dict[str, str]) -> object:
        """A call starts: add headers it should carry; answer a token for `end`."""
        ...

    def attempt(self, token: object, attempt: Attempt) -> None: ...

    def end(self, token: object, error: BaseException | None) -> None: ...


class LogFailures:
    """The default observer: one warning per failed attempt (an expected 404: debug)."""

    def begin(self, operation: str, headers: dict[str, str]) -> object:
        return None

    def attempt(self, token: object, attempt: Attempt) -> None:
        if attempt.ok:
            return
        level = logging.DEBUG if attempt.expected else logging.WARNING
        logger.log(
            level,
            "upstream %s failed: %s after %.0f ms (attempt %d of %d)%s",
            attempt.operation,
            attempt.outcome,
            attempt.seconds * 1000,
            attempt.number,
            attempt.of,
            "; retrying" if attempt.retrying else "",
            extra={
                "event": "upstream_failure",
                "operation": attempt.operation,
                "outcome": attempt.outcome,
                "attempt": attempt.number,
                "retrying": attempt.retrying,
            },
        )

    def end(self, token: object, error: BaseException | None) -> None:
        return None
