"""Idempotency keys for creates: a retry with the same key returns the first result.

A client that lost the answer to `createLocation` cannot know whether the location was
made; sending the mutation again could make a second one. With an `idempotencyKey`, the
gateway remembers what the first request with that key (from the same caller) did:

- success: every retry within the window gets the same new id, and nothing goes upstream;
- still running: concurrent duplicates wait for it and get its answer;
- an outcome nobody can know (the upstream timed out, dropped the connection or answered
  5xx after the body was sent): retries get `UPSTREAM_UNAVAILABLE` saying so, never a
  second create; the client checks, then uses a new key;
- a refusal that says nothing was written (4xx, 401, 429): the key is free again.

The same key with different input is `BAD_USER_INPUT`. Keys are scoped to a digest of the
caller's bearer token, so another tenant's key never matches. `IdempotencyStore` is the
interface; `MemoryIdempotencyStore` keeps keys in this process, bounded in number and time,
and `SharedIdempotencyStore` (`idempotency_shared.py`) in the state replicas share.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.errors import (
    BadUserInput,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.shared import credential_digest

# Refusals that prove nothing was written: the same key may be tried again.
NOT_APPLIED = (BadUserInput, Unauthenticated, Forbidden, NotFound, RateLimited, UpstreamRejected)
MAX_KEY_LENGTH = 200


class IdempotencyStore(Protocol):
    async def run(
        self, scope: str, key: str, fingerprint: str, create: Callable[[], Awaitable[str]]
    ) -> str:
        """`create()` once per (scope, key) within the window; its id for every retry."""
        ...


def caller_scope(token: str) -> str:
    return credential_digest(token)


def checked_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadUserInput(
            f"`idempotencyKey` must be 1 to {MAX_KEY_LENGTH} printable characters.",
            field="idempotencyKey",
        )
    return key


@dataclass
class _Entry:
    fingerprint: str
    outcome: asyncio.Future[str]
    at: float


class MemoryIdempotencyStore:
    """Keys of this process; at most `max_keys`, each for `window_s` seconds."""

    def __init__(
        self,
        *,
        window_s: float = 24 * 3600,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._window = window_s
        self._max = max_keys
        self._clock = clock

    async def run(
        self, scope: str, key: str, fingerprint: str, create: Callable[[], Awaitable[str]]
    ) -> str:
        now = self._clock()
        self._expire(now)
        entry = self._entries.get((scope, key))
        if entry is not None:
            if entry.fingerprint != fingerprint:
                raise BadUserInput(
                    "This `idempotencyKey` was used with different input.",
                    field="idempotencyKey",
                )
            # A shield: a duplicate that gives up must not cancel the first request's wait.
            return await asyncio.shield(entry.outcome)
        outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._entries[(scope, key)] = _Entry(fingerprint, outcome, now)
        try:
            new_id = await create()
        except NOT_APPLIED as refused:
            del self._entries[(scope, key)]  # nothing was written: the key is free again
            outcome.set_exception(refused)
            outcome.exception()  # retrieved: duplicates waiting share it, no warning
            raise
        except BaseException:  # timed out, dropped, 5xx, cancelled: the outcome is unknown
            outcome.set_exception(unknown_outcome())
            outcome.exception()
            raise
        outcome.set_result(new_id)
        return new_id

    def _expire(self, now: float) -> None:
        while self._entries:
            (scope, key), oldest = next(iter(self._entries.items()))
            if now - oldest.at <= self._window and len(self._entries) < self._max:
                return
            if not oldest.outcome.done():  # never forget a create still under way
                return
            del self._entries[(scope, key)]


def unknown_outcome() -> UpstreamUnavailable:
    return UpstreamUnavailable(
        "The first request with this `idempotencyKey` may or may not have created the "
        "location (the upstream did not say). Check before creating it with a new key.",
        operation="postLocation",
    )
