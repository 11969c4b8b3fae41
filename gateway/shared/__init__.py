"""State that replicas share: idempotency claims, rate-limit counters, cache locks.

`SharedState` is the interface the features use; `MemoryState` keeps it in this process
(the default: one replica), `RedisState` in Redis (`GATEWAY_REDIS_URL`), so that every
replica sees the same keys. Backends raise `SharedStateError`, and only that, when the
store cannot answer; each feature decides what that means for it (idempotency fails
closed, rate limits fail open). Keys are the callers' business: a key that holds anything
of a tenant carries that tenant's credential digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


def credential_digest(token: str) -> str:
    """The SHA-256 of a bearer token: what every key, cohort and count of a caller names
    instead of the token (the tenancy rule), so one digest recipe serves them all."""
    return hashlib.sha256(token.encode()).hexdigest()


class SharedStateError(Exception):
    """The shared store could not be reached or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Allowance:
    """One GCRA decision: whether the request may run, and what the caller is told."""

    allowed: bool
    remaining: int  # requests that could still run at once
    retry_after_s: float  # 0 when allowed
    reset_s: float  # until the bucket is full again


class SharedState(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None: ...

    async def set_if_absent(self, key: str, value: bytes, *, ttl_s: float) -> bool:
        """Store `value` only if `key` has none; True when this call stored it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_if(self, key: str, value: bytes) -> bool:
        """Drop `key` only while it still holds `value` (a lock released by its holder)."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Drop every key starting with `prefix`; how many were dropped."""
        ...

    async def incr(self, key: str, *, ttl_s: float) -> int:
        """Add one to a counter (made at 0, expiring `ttl_s` after it was made)."""
        ...

    async def gcra(self, key: str, *, per_s: float, burst: int) -> Allowance:
        """Take one request from the bucket `key`: `burst` at once, refilled at `per_s`."""
        ...

    async def close(self) -> None: ...


def open_state(
    url: str, *, prefix: str = "", timeout_s: float = 0.5, max_keys: int = 100_000
) -> SharedState:
    """Redis when `url` is set, else this process's memory."""
    if url:
        from gateway.shared.redis_state import RedisState  # redis-py only when asked for

        return RedisState(url, prefix=prefix, timeout_s=timeout_s)
    from gateway.shared.memory import MemoryState

    return MemoryState(max_keys=max_keys)
