"""Injected faults: what an operation answers instead of (or before) its normal answer."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Final, Literal

FaultKind = Literal["status", "delay", "malformed", "drop", "huge"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "delay", "malformed", "drop", "huge")

# The frame of a `huge` body, `{"locations": [` ... `]}`: the smallest one is just that.
HUGE_PREFIX: Final = b'{"locations": ['
HUGE_SUFFIX: Final = b"]}"
HUGE_MIN_BYTES: Final = len(HUGE_PREFIX) + len(HUGE_SUFFIX)


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour of the far side of the wire.

    `status`: answer `status` with a JSON error body (and `Retry-After: retry_after`).
    `delay`: wait `delay_ms`, then answer normally (for client timeouts).
    `malformed`: answer 200 with a body that is not JSON, labelled application/json.
    `drop`: close the connection without a complete HTTP answer.
    `huge`: answer 200 with a JSON list of locations exactly `size_bytes` long, generated
    chunk by chunk as the client reads it (never held in memory), sent chunked or, with
    `chunked=False`, with a `Content-Length` that declares the size up front.
    """

    kind: FaultKind = "status"
    status: int = 503
    retry_after: int | None = None
    delay_ms: int = 0
    size_bytes: int = 64 * 1024 * 1024
    chunked: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if not 400 <= self.status <= 599:
            raise ValueError("a status fault needs a 4xx or 5xx status")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.delay_ms < 0:
            raise ValueError("delay_ms must not be negative")
        if self.size_bytes < HUGE_MIN_BYTES:
            raise ValueError(f"size_bytes must be at least {HUGE_MIN_BYTES}")


@dataclass(slots=True)
class BodyMeter:
    """How much of one `huge` answer the emulator generated: tests prove with it that a
    client which stops reading also stops the generation, far short of `size_bytes`."""

    operation_id: str
    size_bytes: int
    sent_bytes: int = 0
    """Bytes handed to the server so far."""
    finished: threading.Event = field(default_factory=threading.Event)
    """Set when generation ends: the whole body was sent, or the client went away first.
    An event of threads, not of asyncio: tests may serve the emulator from another."""


@dataclass(slots=True)
class _Pending:
    fault: Fault
    left: int | None  # None: for ever


class FaultQueue:
    """Faults per operation, served in the order they were injected."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[_Pending]] = {}
        self.huge_bodies: list[BodyMeter] = []
        """One meter per `huge` answer started, in order."""

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

    def meter(self, operation_id: str, fault: Fault) -> BodyMeter:
        """A new meter for one `huge` answer of `fault` to `operation_id`."""
        meter = BodyMeter(operation_id, fault.size_bytes)
        self.huge_bodies.append(meter)
        return meter

    def clear(self) -> None:
        self._queues.clear()
        self.huge_bodies.clear()
