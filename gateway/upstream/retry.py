"""When and how long to wait before asking the upstream again."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, for idempotent GETs only.

    Writes (POST, PATCH) are never retried, whatever this policy says: a lost answer
    to a create may still have created the location.
    """

    max_attempts: int = 3
    """Calls per GET, the first one included (1 = no retries)."""
    base_delay_s: float = 0.1
    """Wait before the first retry; doubles with each further retry."""
    max_delay_s: float = 2.0
    """Cap on one backoff wait (not on a `Retry-After` the upstream asks for)."""
    jitter: float = 0.5
    """Share of each backoff wait drawn at random (0 = none, 1 = "full jitter")."""
    max_retry_after_s: float = 5.0
    """The longest `Retry-After` worth waiting for; a longer one is reported at once."""
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    """Answers that say "try again": throttling and gateway or availability trouble."""
    retry_read_timeouts: bool = False
    """Also retry when the upstream accepted the request but answered too slowly.

    Off by default: a slow upstream is usually an overloaded one, and a second wait of
    the full read timeout rarely fits in the caller's deadline. Connect and pool
    timeouts (nothing was sent) are always retried.
    """
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    """Source of jitter, in [0, 1); injectable for deterministic tests."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must lie in [0, 1]")
        if min(self.base_delay_s, self.max_delay_s, self.max_retry_after_s) < 0:
            raise ValueError("delays must not be negative")

    def backoff_s(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first retry)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return delay * (1.0 - self.jitter * self.rng())

    def delay_s(self, retry: int, retry_after_s: float | None) -> float | None:
        """The wait before retry number `retry`, or None when waiting is not worth it.

        A `Retry-After` within `max_retry_after_s` is honoured as asked (it is at least
        the backoff); a longer one means the upstream will not answer soon, so the
        caller hears about it now, with the hint.
        """
        backoff = self.backoff_s(retry)
        if retry_after_s is None:
            return backoff
        if retry_after_s > self.max_retry_after_s:
            return None
        return max(backoff, retry_after_s)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds or an HTTP-date; None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
