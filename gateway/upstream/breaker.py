"""Circuit breakers: stop calling an upstream operation that keeps failing, for a while.

When an operation fails again and again (5xx, timeouts, dropped connections), every
further call costs the caller a full timeout and the sick upstream more load, for an
answer we can already guess. A breaker per operation turns that into a quick
`UpstreamUnavailable` and, after a pause, lets a single probe find out whether the
upstream has recovered:

    closed ──(failure_threshold consecutive failures)──▶ open
    open ──(open_s seconds pass)──▶ half-open: the next attempt is the probe, alone
    half-open ──(the probe succeeds)──▶ closed
    half-open ──(the probe fails)──▶ open, for another open_s

Rules (see `Verdict`):
- Outcomes are counted per attempt, not per call: a GET retried three times against a
  503 is three consecutive failures, because the upstream answered 503 three times.
- Only failures that say the upstream itself is unwell count: 5xx, httpx timeouts,
  connection errors, a broken HTTP answer. Answers the upstream gives on purpose (4xx,
  401, 403, 404) prove it is alive and reset the count, like a success.
- Some outcomes say nothing about the upstream's health and neither count nor reset: a
  429 (throttling is per token), a refused oversized body (its size follows the tenant's
  data), the caller's own deadline passing mid-call (a hung upstream is caught by httpx's
  read timeout instead, shorter than a request's deadline by default), a cancelled call.
  A 2xx body that does not match the contract is decoded above the transport and not
  seen here: it may be one tenant's odd row, not an outage.
- Half-open admits one probe at a time; callers meanwhile fail fast. A probe that learns
  nothing (cancelled, a 429, ...) hands the probe on to the next caller.

One `Breakers` exists per `Sender`, so one breaker per operation per process, shared by
every tenant. That is safe because nothing a single tenant causes counts: a bad token
(401), a hidden row (404), an exhausted quota (429) or a huge network (oversized body)
leave the breaker alone, so one tenant cannot open the circuit for the others. An
outage of the upstream, on the other hand, is everybody's.

Everything here runs on one event loop and never awaits, so no lock is needed: a check
and the change that follows it cannot interleave with another task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final

logger: Final = logging.getLogger("gateway.upstream")


class CircuitState(StrEnum):
    CLOSED = "closed"
    """Calls go through; consecutive failures are being counted."""
    OPEN = "open"
    """Calls fail fast, without any I/O, until `open_s` has passed."""
    HALF_OPEN = "half_open"
    """The pause is over: the next attempt is a probe, and only it goes through."""


class Verdict(Enum):
    """What one attempt says about the upstream's health."""

    HEALTHY = "healthy"
    """It answered: a 2xx, or a 4xx it gave on purpose (401, 403, 404, 400, ...)."""
    UNWELL = "unwell"
    """A 5xx, an httpx timeout, a failed or dropped connection, a broken HTTP answer."""
    UNKNOWN = "unknown"
    """Nothing learned: a 429, an oversized body, the caller's deadline, a cancellation."""


@dataclass(frozen=True, kw_only=True)
class BreakerPolicy:
    """When a breaker opens and for how long; `failure_threshold=0` turns breakers off.

    The defaults assume the client's default of three attempts per GET: one call's
    retries alone cannot open the circuit, three or four failing calls in a row do.
    """

    failure_threshold: int = 10
    """Consecutive failed attempts of one operation that open its circuit (0 = never)."""
    open_s: float = 15.0
    """How long an open circuit fails calls fast before it lets a probe through."""

    def __post_init__(self) -> None:
        if self.failure_threshold < 0:
            raise ValueError("failure_threshold must not be negative (0 turns it off)")
        if not self.open_s > 0:
            raise ValueError("open_s must be positive")

    @property
    def enabled(self) -> bool:
        return self.failure_threshold > 0


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave for one attempt, to be handed back with its verdict to `CircuitBreaker.record`.

    `opening` names the breaker's open period the permit was issued in (0: never
    opened yet), so that an attempt that started before the circuit opened cannot
    close it by finishing late.
    """

    probe: bool
    opening: int


class CircuitBreaker:
    """The breaker of one operation. `admit` before each attempt, `record` after it."""

    def __init__(
        self,
        operation_id: str,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operation_id = operation_id
        self.policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None  # None while closed
        self._openings = 0
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at < self.policy.open_s:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def would_admit(self) -> bool:
        """Whether `admit` would give a permit now (without taking it)."""
        state = self.state
        return state is CircuitState.CLOSED or (
            state is CircuitState.HALF_OPEN and not self._probing
        )

    def admit(self) -> Permit | None:
        """A permit for one attempt, or None: fail fast, the circuit is open or probing."""
        state = self.state
        if state is CircuitState.CLOSED:
            return Permit(probe=False, opening=self._openings)
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return Permit(probe=True, opening=self._openings)
        return None

    def record(self, permit: Permit, verdict: Verdict) -> None:
        """The outcome of the attempt `permit` was given for. Call it exactly once."""
        if permit.probe:
            self._probing = False
            if verdict is Verdict.HEALTHY:
                self._close()
            elif verdict is Verdict.UNWELL:
                self._open("its probe failed")
            # UNKNOWN: still half-open; the next attempt probes instead.
            return
        if permit.opening != self._openings or self._opened_at is not None:
            return  # admitted before the circuit opened: only the probe decides now
        if verdict is Verdict.HEALTHY:
            self._failures = 0
        elif verdict is Verdict.UNWELL:
            self._failures += 1
            if self.policy.enabled and self._failures >= self.policy.failure_threshold:
                self._open(f"{self._failures} consecutive failures")

    def _open(self, why: str) -> None:
        self._opened_at = self._clock()
        self._openings += 1
        logger.warning(
            "upstream %s: circuit opened after %s; failing fast for %.0f s",
            self.operation_id,
            why,
            self.policy.open_s,
        )

    def _close(self) -> None:
        self._opened_at = None
        self._failures = 0
        logger.warning("upstream %s: circuit closed, the probe succeeded", self.operation_id)


@dataclass
class Breakers:
    """One `CircuitBreaker` per operationId, made on first use."""

    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    clock: Callable[[], float] = time.monotonic
    _by_operation: dict[str, CircuitBreaker] = field(default_factory=dict, init=False)

    def of(self, operation_id: str) -> CircuitBreaker:
        breaker = self._by_operation.get(operation_id)
        if breaker is None:
            breaker = CircuitBreaker(operation_id, self.policy, self.clock)
            self._by_operation[operation_id] = breaker
        return breaker

    def state_of(self, operation_id: str) -> CircuitState:
        """The state of one operation's circuit; closed for one never called."""
        breaker = self._by_operation.get(operation_id)
        return CircuitState.CLOSED if breaker is None else breaker.state

    def states(self) -> dict[str, CircuitState]:
        """A snapshot: operationId → state, for every operation called so far."""
        return {op: breaker.state for op, breaker in sorted(self._by_operation.items())}
