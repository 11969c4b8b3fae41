"""When a cohort polls next: its interval with jitter, or a backoff after failures."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gateway.errors import RateLimited


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Jitter spreads the polls of many credentials; backoff doubles per failure, capped,
    and a 429's `Retry-After` is honoured when it asks for longer."""

    jitter: float = 0.1  # each pause is the interval times 1 ± this
    max_backoff_s: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def pause(self, interval_s: float) -> float:
        return interval_s * self.rng.uniform(1 - self.jitter, 1 + self.jitter)

    def backoff(self, interval_s: float, failures: int, error: Exception) -> float:
        delay = self.pause(min(self.max_backoff_s, interval_s * 2 ** min(failures, 16)))
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            return max(delay, error.retry_after_s)  # never sooner than the upstream asked
        return delay
