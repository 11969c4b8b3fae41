"""`Subscriber`: one subscription's bounded queue of events, between a poll and a client.

A poll never waits for a client. It offers each event under a key (an EVSE, a location,
the summary): a key already pending is merged with the new event, so a slow consumer
holds at most one pending event per key and, when it reads, gets the latest state. Past
`max_pending` distinct keys the oldest pending event is dropped (and counted); keys are
bounded by what the credential can see, so that takes a consumer stalled on a huge network.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, TypeVar

from gateway.errors import GatewayError
from gateway.loaders.queries import LocationUids

E = TypeVar("E")
Merge = Callable[[E, E], E | None]  # the pending and the newer event -> one, or None: none


def latest(pending: E, newer: E) -> E | None:
    """The default merge: the newer event replaces the pending one."""
    return newer


class LatestQueue(Generic[E]):
    """Pending events by key, oldest first; a key offered again is merged in place."""

    def __init__(self, max_pending: int, merge: Merge[E] = latest) -> None:
        self._pending: OrderedDict[Hashable, E] = OrderedDict()
        self._max = max(1, max_pending)
        self._merge = merge
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    def offer(self, key: Hashable, event: E) -> None:
        if key in self._pending:
            merged = self._merge(self._pending[key], event)
            if merged is None:
                del self._pending[key]  # the two cancel out (a status that flapped back)
            else:
                self._pending[key] = merged
            return
        if len(self._pending) >= self._max:
            self._pending.popitem(last=False)
            self.dropped += 1
        self._pending[key] = event

    def take(self) -> E:
        return self._pending.popitem(last=False)[1]


class Subscriber(Generic[E]):
    """What one subscription has pending, and its end (an error, or the client leaving)."""

    def __init__(self, scope: LocationUids, max_pending: int, merge: Merge[E] = latest) -> None:
        self.scope = scope
        self.queue: LatestQueue[E] = LatestQueue(max_pending, merge)
        self.primed = False  # has seen one poll since it joined (its initial state)
        self._ready = asyncio.Event()
        self._failure: GatewayError | None = None
        self._closed = False
        self.on_close: Callable[[Subscriber[E]], None] | None = None
        self.on_offer: Callable[[], None] | None = None

    def offer(self, key: Hashable, event: E) -> None:
        if not self._closed:
            self.queue.offer(key, event)
            self._ready.set()
            if self.on_offer is not None:
                self.on_offer()

    def fail(self, error: GatewayError) -> None:
        """End the subscription with `error` once the client has read what is pending."""
        self._failure = error
        self._ready.set()

    def close(self) -> None:
        """The client left: stop receiving, and leave the cohort (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._ready.set()
        if self.on_close is not None:
            self.on_close(self)

    async def events(self) -> AsyncIterator[E]:
        """Events as they come, until failed or closed; leaving closes the subscriber."""
        try:
            while not self._closed:
                if not self.queue:
                    if self._failure is not None:
                        raise self._failure
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                yield self.queue.take()
        finally:
            self.close()
