"""`SharedIdempotencyStore`: idempotency keys every replica sees, in the shared state.

The rules are those of `gateway/idempotency.py`; what changes is how a claim is made. The
first request with a key claims it with one atomic set-if-absent (a `pending` record that
expires with the window), creates, then stores the outcome in its place:

- `done` with the new id, which every retry on any replica gets;
- `unknown` when nobody can know whether the create happened: retries are refused;
- nothing (the claim deleted) after a refusal that proves nothing was written.

A duplicate that finds `pending` polls until the record changes, for at most `wait_s`
(the request deadline); a claim still pending then, whose creator may have died mid-call,
is an unknown outcome, never a second create. The store failing closes the door: with a
key, `createLocation` is `IDEMPOTENCY_UNAVAILABLE` and sends nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson

from gateway.errors import BadUserInput, IdempotencyUnavailable
from gateway.idempotency import NOT_APPLIED, unknown_outcome
from gateway.shared import SharedState, SharedStateError

log = logging.getLogger("gateway.idempotency")
T = TypeVar("T")

FIRST_POLL_S = 0.01
LAST_POLL_S = 0.2


class SharedIdempotencyStore:
    def __init__(self, state: SharedState, *, window_s: float, wait_s: float) -> None:
        self._state = state
        self._window = window_s
        self._wait = wait_s

    async def run(
        self, scope: str, key: str, fingerprint: str, create: Callable[[], Awaitable[str]]
    ) -> str:
        # The scope is the credential digest: another tenant's key is another record.
        name = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
        deadline = time.monotonic() + self._wait
        pause = FIRST_POLL_S
        while True:
            pending = _record(fingerprint, "pending")
            if await self._guarded(self._state.set_if_absent(name, pending, ttl_s=self._window)):
                return await self._create(name, fingerprint, create)
            seen = await self._guarded(self._state.get(name))
            if seen is None and time.monotonic() < deadline:
                continue  # freed by a refusal since: claim it ourselves
            if seen is None:
                raise unknown_outcome()
            record = orjson.loads(seen)
            if record["f"] != fingerprint:
                raise BadUserInput(
                    "This `idempotencyKey` was used with different input.",
                    field="idempotencyKey",
                )
            if record["s"] == "done":
                return str(record["id"])
            if record["s"] == "unknown" or time.monotonic() >= deadline:
                raise unknown_outcome()
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_POLL_S)

    async def _create(
        self, name: str, fingerprint: str, create: Callable[[], Awaitable[str]]
    ) -> str:
        try:
            new_id = await create()
        except NOT_APPLIED:
            await self._settle(self._state.delete(name))  # nothing written: free again
            raise
        except BaseException:  # timed out, dropped, 5xx, cancelled: the outcome is unknown
            unknown = _record(fingerprint, "unknown")
            await self._settle(self._state.set(name, unknown, ttl_s=self._window))
            raise
        done = _record(fingerprint, "done", new_id)
        await self._settle(self._state.set(name, done, ttl_s=self._window))
        return new_id

    async def _guarded(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except SharedStateError as exc:
            raise IdempotencyUnavailable(
                "The store of idempotency keys cannot be reached, so this key cannot be "
                "checked; nothing was sent. Retry later with the same key."
            ) from exc

    async def _settle(self, call: Awaitable[None]) -> None:
        # The create itself is over: a lost record leaves the claim `pending`, which
        # retries read as an unknown outcome once they have waited. Safe, so only logged.
        try:
            await call
        except SharedStateError as exc:
            log.warning("idempotency record not stored: %s", exc)


def _record(fingerprint: str, status: str, new_id: str | None = None) -> bytes:
    return orjson.dumps({"f": fingerprint, "s": status, "id": new_id})
