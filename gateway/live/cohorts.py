"""Cohorts: one poll loop per (credential, upstream view), shared by its subscribers.

A cohort starts polling when its first subscriber joins and stops when the last leaves.
It polls the union of its subscribers' location filters (the whole network if any has
none) with fresh loaders bound to the credential, diffs the new snapshot against the last
one once, and offers each subscriber the events within its own filter. Two credentials
never share a cohort, a snapshot or loaders: the registry keys cohorts by a digest of the
token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.errors import GatewayError, Unauthenticated
from gateway.live.policy import PollPolicy
from gateway.live.snapshots import covers_all
from gateway.live.subscriber import Subscriber
from gateway.loaders import Loaders
from gateway.loaders.queries import LocationUids
from gateway.upstream import contract

log = logging.getLogger("gateway.live")

S = TypeVar("S")  # a snapshot
T = TypeVar("T")  # what one poll hands its subscribers (the snapshots and their diff)
# Events for one subscriber from one tick; `first`: its first tick since joining.
Select = Callable[[T, bool], Iterable[tuple[Hashable, Any]]]


def credential_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Feed(Generic[S, T]):
    """One upstream view as the live layer polls it."""

    resource: str  # "status", "power", "errors"
    interval_s: float
    # Loaders for this poll, the scope, the last snapshot, the scopes of the subscribers.
    poll: Callable[[Loaders, LocationUids, S | None, Sequence[LocationUids]], Awaitable[S]]
    tick: Callable[[S | None, S], T]
    scope_of: Callable[[S], LocationUids]


@dataclass(frozen=True, slots=True)
class CohortKey:
    credential: str  # a digest of the token, never the token
    resource: str


class Cohort(Generic[S, T]):
    def __init__(
        self,
        key: CohortKey,
        token: str,
        feed: Feed[S, T],
        loaders_for: Callable[[str], Loaders],
        policy: PollPolicy,
        on_unauthenticated: Callable[[str, Unauthenticated], None],
        on_empty: Callable[[Cohort[S, T]], None],
        on_poll: Callable[[str, bool], None],
    ) -> None:
        self.key = key
        self._token = token
        self._feed = feed
        self._loaders_for = loaders_for
        self._policy = policy
        self._on_unauthenticated = on_unauthenticated
        self._on_empty = on_empty
        self._on_poll = on_poll
        self.subscribers: dict[Subscriber[Any], Select[T]] = {}
        self.snapshot: S | None = None
        self._wake = asyncio.Event()
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self.failures = 0  # consecutive failed polls
        self.pause_s = 0.0  # the pause before the next poll

    def join(self, subscriber: Subscriber[Any], select: Select[T]) -> None:
        self.subscribers[subscriber] = select
        snapshot = self.snapshot
        if snapshot is not None and covers_all(self._feed.scope_of(snapshot), subscriber.scope):
            self._deliver(subscriber, select, self._feed.tick(snapshot, snapshot))
        elif not self.failures:
            # Its locations are not in the last poll: poll now, unless backing off (a
            # joining subscriber must not undo a Retry-After); it waits for the next poll.
            self._wake.set()
        if self._task is None:
            name = f"live-{self.key.resource}-{self.key.credential[:8]}"
            self._task = asyncio.create_task(self._run(), name=name)

    def leave(self, subscriber: Subscriber[Any]) -> None:
        if self.subscribers.pop(subscriber, None) is not None and not self.subscribers:
            self.stop()
            self._on_empty(self)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._release(self._waiters)
        self._waiters = []

    def end(self, error: GatewayError) -> None:
        """Fail every subscriber with `error` and stop polling."""
        self.stop()
        for subscriber in list(self.subscribers):
            subscriber.fail(error)
        self.subscribers.clear()

    def poll_now(self) -> asyncio.Future[None]:
        """Ask for a poll, backoff or not (tests drive polls with this); the future is done
        when a poll that started after this call is over."""
        waiter = self.after_next_poll()
        self._wake.set()
        return waiter

    def after_next_poll(self) -> asyncio.Future[None]:
        """A future done when a poll that starts after this call is over (ok or not),
        without asking for one."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    @property
    def poll_asked(self) -> bool:
        """Whether a poll was asked for ahead of the pause (a join, or `poll_now`)."""
        return self._wake.is_set()

    def scope(self) -> LocationUids:
        """The union of the subscribers' filters; too many for one call: everything."""
        union: set[str] = set()
        for subscriber in self.subscribers:
            if subscriber.scope is None:
                return None
            union.update(subscriber.scope)
        if len(union) > contract.MAX_IDS_PER_CALL:
            return None
        return tuple(sorted(union))

    async def _run(self) -> None:
        while True:
            await self._sleep(self.pause_s)
            waiting, self._waiters = self._waiters, []
            try:
                await self._poll()
            except Unauthenticated as error:
                self._on_poll(self.key.resource, False)
                self._task = None  # ending from inside: nothing to cancel
                self._on_unauthenticated(self.key.credential, error)
                return
            except Exception as error:
                self.failures += 1
                self.pause_s = self._policy.backoff(self._feed.interval_s, self.failures, error)
                self._on_poll(self.key.resource, False)
                if not isinstance(error, GatewayError):
                    log.exception("live %s poll failed unexpectedly", self.key.resource)
            else:
                self.failures = 0
                self.pause_s = self._policy.pause(self._feed.interval_s)
                self._on_poll(self.key.resource, True)
            finally:
                self._release(waiting)  # also when cancelled: nobody waits for ever

    async def _poll(self) -> None:
        subscribers = list(self.subscribers.items())
        scope = self.scope()
        loaders = self._loaders_for(self._token)
        try:
            new = await self._feed.poll(
                loaders, scope, self.snapshot, [s.scope for s, _ in subscribers]
            )
        finally:
            loaders.close()
        tick = self._feed.tick(self.snapshot, new)
        self.snapshot = new
        for subscriber, select in subscribers:
            if subscriber in self.subscribers:
                self._deliver(subscriber, select, tick)

    @staticmethod
    def _deliver(subscriber: Subscriber[Any], select: Select[T], tick: T) -> None:
        for key, event in select(tick, not subscriber.primed):
            subscriber.offer(key, event)
        subscriber.primed = True

    async def _sleep(self, seconds: float) -> None:
        if not self._wake.is_set() and seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    @staticmethod
    def _release(waiters: list[asyncio.Future[None]]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
