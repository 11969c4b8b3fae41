"""`ResponseCache`: upstream reads served again to the same credential while fresh.

Off unless `GATEWAY_RESPONSE_CACHE` is set. An entry is the body of one 2xx GET, keyed by
the credential's digest (never shared between tenants), the operation and its exact path
and parameters; it lives for the operation's `contract.FRESH_FOR_S` (network status and
power only with `live_s` > 0, for that long), unless the answer's `Cache-Control` says
otherwise: `no-store`, `no-cache` or `max-age=0` keep it out of the store, and
`max-age=N` keeps it N seconds, at most `MAX_AGE_FACTOR` times the default. A write drops the
writer's entries of the operations `contract.STALE_AFTER` names. Entries sit in the
shared state, so replicas serve each other's; a store that cannot answer is a miss, and
the read goes upstream.

Identical reads of one credential make one upstream call across the fleet: in this
process, followers await the leader's future; between processes, the leader holds a
short lock in the shared state (`lock:` + the entry's key, so tenants never share one)
while it fetches, and the other replicas poll for the entry. A lock outlives its holder
by `lock_ttl_s` at most, and a waiter gives up by then (or at the caller's deadline) and
fetches itself, so a dead holder, a failed fetch or a store that cannot answer costs an
extra call, never a hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.shared import SharedState, SharedStateError, credential_digest
from gateway.upstream import contract

log = logging.getLogger("gateway.upstream.cache")

Outcome = Callable[[str], None]  # "hit", "miss" (or "eviction", from the store), for metrics

# An upstream `max-age` may lengthen an entry's life to this many times its default, no
# more: a wrong or hostile header cannot pin an answer for hours.
MAX_AGE_FACTOR = 10.0


@dataclass(frozen=True, slots=True)
class Fetched:
    """What one upstream read brought back: its body and its `Cache-Control`, if any."""

    body: bytes
    cache_control: str | None = None


def fresh_for_s(cache_control: str | None, default_s: float) -> float:
    """How long to keep an answer: `default_s`, unless `cache_control` says otherwise.

    `no-store`, `no-cache` or `max-age=0` → 0, not stored; `max-age=N` → N, capped at
    `MAX_AGE_FACTOR` times `default_s`. Other directives are ignored (`private` included: an
    entry is one credential's own), and so is an unreadable `max-age`."""
    if not cache_control:
        return default_s
    max_age: float | None = None
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age":
            try:
                max_age = float(int(value.strip().strip('"')))
            except ValueError:
                continue
    if max_age is None:
        return default_s
    return max(0.0, min(max_age, default_s * MAX_AGE_FACTOR))


# A waiter's polls for the entry another replica is fetching: soon at first (most reads
# take milliseconds), then no more than 20 a second.
POLL_FIRST_S = 0.005
POLL_MAX_S = 0.05


class ResponseCache:
    def __init__(
        self,
        state: SharedState,
        *,
        lock_ttl_s: float = 11.0,
        live_s: float = 0.0,
        on_outcome: Outcome | None = None,
    ) -> None:
        self._state = state
        self._live_s = live_s  # network status and power: 0, never cached
        self._lock_ttl_s = lock_ttl_s  # a little over one upstream call's timeout
        self._on_outcome = on_outcome
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self.hits = 0
        self.misses = 0

    def fresh_for(self, route: tuple[str, str]) -> float:
        """The default life of `route`'s entries; 0: not cached."""
        if route in contract.LIVE_ROUTES:
            return self._live_s
        return contract.FRESH_FOR_S.get(route, 0.0)

    async def read(
        self,
        route: tuple[str, str],
        token: str,
        target: str,
        fetch: Callable[[], Awaitable[Fetched]],
        *,
        deadline: float | None = None,
    ) -> bytes:
        """The body of `target` (path and query) for this credential: cached or fetched.

        `deadline` (`time.monotonic()`) bounds the wait for another replica's fetch."""
        key = entry_key(token, route, target)
        while True:
            flight = self._flights.get(key)
            if flight is None:
                break
            try:
                body = await asyncio.shield(flight)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                continue  # the leader's request went away: fetch ourselves
            self._count("hit")
            return body
        # Claimed before the first await, so that no follower can claim it as well.
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            body = await self._lookup_or_fetch(route, key, fetch, deadline)
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: followers share it, no warning if none
            raise
        finally:
            del self._flights[key]
        flight.set_result(body)
        return body

    async def _lookup_or_fetch(
        self,
        route: tuple[str, str],
        key: str,
        fetch: Callable[[], Awaitable[Fetched]],
        deadline: float | None,
    ) -> bytes:
        try:
            stored = await self._state.get(key)
        except SharedStateError as exc:
            log.debug("response cache not read: %s", exc)
            return await self._fetch(route, key, fetch)  # no lock either: fail open
        if stored is not None:
            self._count("hit")
            return stored
        lock, holder = "lock:" + key, secrets.token_bytes(16)
        try:
            ours = await self._state.set_if_absent(lock, holder, ttl_s=self._lock_ttl_s)
        except SharedStateError as exc:
            log.debug("response cache lock not taken: %s", exc)
            return await self._fetch(route, key, fetch)
        if ours:
            try:
                return await self._fetch(route, key, fetch)
            finally:
                await self._release(lock, holder)
        stored = await self._wait_for(key, lock, deadline)
        if stored is not None:
            self._count("hit")
            return stored
        # The holder failed, died or is slower than the lock: the read is ours to make.
        return await self._fetch(route, key, fetch)

    async def _fetch(
        self, route: tuple[str, str], key: str, fetch: Callable[[], Awaitable[Fetched]]
    ) -> bytes:
        self._count("miss")
        fetched = await fetch()
        ttl_s = fresh_for_s(fetched.cache_control, self.fresh_for(route))
        if ttl_s <= 0:
            # Told not to keep it: followers in this process still share this answer,
            # other replicas' waiters see the lock go without an entry and fetch.
            return fetched.body
        try:
            await self._state.set(key, fetched.body, ttl_s=ttl_s)
        except SharedStateError as exc:
            log.debug("response cache not written: %s", exc)
        return fetched.body

    async def _wait_for(self, key: str, lock: str, deadline: float | None) -> bytes | None:
        """The entry another replica's fetch writes; None once its lock is gone without
        one, the lock's time or the caller's deadline runs out, or the store fails."""
        until = time.monotonic() + self._lock_ttl_s
        if deadline is not None:
            until = min(until, deadline)
        pause = POLL_FIRST_S
        try:
            while time.monotonic() + pause < until:
                await asyncio.sleep(pause)
                pause = min(pause * 2, POLL_MAX_S)
                stored = await self._state.get(key)
                if stored is not None:
                    return stored
                if await self._state.get(lock) is None:
                    # Released just after the write, or dropped by a failed fetch.
                    return await self._state.get(key)
        except SharedStateError as exc:
            log.debug("response cache wait abandoned: %s", exc)
        return None

    async def _release(self, lock: str, holder: bytes) -> None:
        try:
            await self._state.delete_if(lock, holder)
        except SharedStateError as exc:
            log.debug("response cache lock not released (it expires): %s", exc)

    async def written(self, route: tuple[str, str], token: str) -> None:
        """After a write of `route` by this credential: its stale entries go."""
        digest = credential_digest(token)
        for stale in contract.STALE_AFTER.get(route, ()):
            try:
                await self._state.delete_prefix(_key(digest, stale))
            except SharedStateError as exc:
                # The write happened; its entries age out within their freshness.
                log.warning("response cache not invalidated: %s", exc)

    def _count(self, outcome: str) -> None:
        if outcome == "hit":
            self.hits += 1
        elif outcome == "miss":
            self.misses += 1
        if self._on_outcome is not None:
            self._on_outcome(outcome)


def entry_key(token: str, route: tuple[str, str], target: str) -> str:
    """The key of one entry; its lock is `lock:` + this."""
    return _key(credential_digest(token), route) + hashlib.sha256(target.encode()).hexdigest()


def _key(digest: str, route: tuple[str, str]) -> str:
    method, path = route
    return f"cache:{digest}:{method} {path}:"
