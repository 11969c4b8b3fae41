"""`ResponseCache`: upstream reads served again to the same credential while fresh.

Off unless `GATEWAY_RESPONSE_CACHE` is set. An entry is the body of one 2xx GET, keyed by
the credential's digest (never shared between tenants), the operation and its exact path
and parameters; it lives for the operation's `contract.FRESH_FOR_S`. Identical reads of
one credential in flight at once in this process make one call (single-flight). A write
drops the writer's entries of the operations `contract.STALE_AFTER` names. Entries sit in
the shared state, so replicas serve each other's; a store that cannot answer is a miss,
and the read goes upstream.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from gateway.shared import SharedState, SharedStateError
from gateway.upstream import contract

log = logging.getLogger("gateway.upstream.cache")

Outcome = Callable[[str], None]  # "hit" or "miss", for the metrics


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ResponseCache:
    def __init__(self, state: SharedState, *, on_outcome: Outcome | None = None) -> None:
        self._state = state
        self._on_outcome = on_outcome
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def fresh_for(route: tuple[str, str]) -> float:
        return contract.FRESH_FOR_S.get(route, 0.0)

    async def read(
        self,
        route: tuple[str, str],
        token: str,
        target: str,
        fetch: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """The body of `target` (path and query) for this credential: cached or fetched."""
        key = _key(digest_of(token), route) + hashlib.sha256(target.encode()).hexdigest()
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
            body = await self._lookup_or_fetch(route, key, fetch)
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
        self, route: tuple[str, str], key: str, fetch: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        try:
            stored = await self._state.get(key)
        except SharedStateError as exc:
            log.debug("response cache not read: %s", exc)
            stored = None
        if stored is not None:
            self._count("hit")
            return stored
        self._count("miss")
        body = await fetch()
        try:
            await self._state.set(key, body, ttl_s=self.fresh_for(route))
        except SharedStateError as exc:
            log.debug("response cache not written: %s", exc)
        return body

    async def written(self, route: tuple[str, str], token: str) -> None:
        """After a write of `route` by this credential: its stale entries go."""
        digest = digest_of(token)
        for stale in contract.STALE_AFTER.get(route, ()):
            try:
                await self._state.delete_prefix(_key(digest, stale))
            except SharedStateError as exc:
                # The write happened; its entries age out within their freshness.
                log.warning("response cache not invalidated: %s", exc)

    def _count(self, outcome: str) -> None:
        if outcome == "hit":
            self.hits += 1
        else:
            self.misses += 1
        if self._on_outcome is not None:
            self._on_outcome(outcome)


def _key(digest: str, route: tuple[str, str]) -> str:
    method, path = route
    return f"cache:{digest}:{method} {path}:"
