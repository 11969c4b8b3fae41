"""Injected faults: what an operation answers instead of (or before) its normal answer."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "delay", "malformed", "drop"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "delay", "malformed", "drop")


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour of the far side of the wire.

    `status`: answer `status` with a JSON error body (and `Retry-After: retry_after`).
    `delay`: wait `delay_ms`, then answer normally (for client timeouts).
    `malformed`: answer 200 with a body that is not JSON, labelled application/json.
    `drop`: close the connection without a complete HTTP answer.
    """

    kind: FaultKind = "status"
    status: int = 503
    retry_after: int | None = None
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if not 400 <= self.status <= 599:
            raise ValueError("a status fault needs a 4xx or 5xx status")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.delay_ms < 0:
            raise ValueError("delay_ms must not be negative")


@dataclass(slots=True)
class _Pending:
    fault: Fault
    left: int | None  # None: for ever


class FaultQueue:
    """Faults per operation, served in the order they were injected."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Pending]] = {}

    def add(self, operation_id: str, fault: Fault, times: int | None) -> None:
        """Queue `fault` for the next `times` calls (None: every call from then on)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for ever)")
        self._queues.setdefault(operation_id, deque()).append(_Pending(fault, times))

    def take(self, operation_id: str) -> Fault | None:
        queue = self._queues.get(operation_id)
        if not queue:
            return None
        pending = queue[0]
        if pending.left is not None:
            pending.left -= 1
            if pending.left == 0:
                queue.popleft()
        return pending.fault

    def clear(self) -> None:
        self._queues.clear()
