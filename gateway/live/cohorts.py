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
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from gateway.errors import GatewayError, Unauthenticated
from gateway.live.policy import PollPolicy
from gateway.live.snapshots import covers_all
from gateway.live.subscriber import Subscriber
from gateway.live.wire import Wire
from gateway.loaders import Loaders
from gateway.loaders.queries import LocationUids
from gateway.upstream import contract

if TYPE_CHECKING:
    from gateway.live.fleet import Envelope, FleetLink

log = logging.getLogger("gateway.live")

S = TypeVar("S")  # a snapshot
T = TypeVar("T")  # what one poll hands its subscribers (the snapshots and their diff)
# Events for one subscriber from one tick; `first`: its first tick since joining.
Select = Callable[[T, bool], Iterable[tuple[Hashable, Any]]]


@dataclass(frozen=True, slots=True)
class Feed(Generic[S, T]):
    """One upstream view as the live layer polls it."""

    resource: str  # "status", "power", "errors"
    interval_s: float
    # Loaders for this poll, the scope, the last snapshot, the scopes of the subscribers.
    poll: Callable[[Loaders, LocationUids, S | None, Sequence[LocationUids]], Awaitable[S]]
    tick: Callable[[S | None, S], T]
    scope_of: Callable[[S], LocationUids]
    wire: Wire[S]  # how a snapshot travels to the other replicas


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
        # With replicas sharing Redis: this cohort's place in the fleet (the hub sets it).
        # Only the leader polls; the others deliver the snapshots it publishes.
        self.link: FleetLink | None = None
        self._due_at = 0.0  # monotonic time of the next poll, as a leader would make it
        self._backoff_until = 0.0  # no poll asked for by a join before then

    def join(self, subscriber: Subscriber[Any], select: Select[T]) -> None:
        self.subscribers[subscriber] = select
        snapshot = self.snapshot
        if snapshot is not None and covers_all(self._feed.scope_of(snapshot), subscriber.scope):
            self._deliver(subscriber, select, self._feed.tick(snapshot, snapshot))
        elif not self.failures and time.monotonic() >= self._backoff_until:
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
        if self.link is not None:
            self.link.close()  # hands the lease over now if we held it
            self.link = None
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
        """The union of the subscribers' filters here; too many for one call: everything."""
        return union_of([subscriber.scope for subscriber in self.subscribers])

    async def _run(self) -> None:
        while True:
            asked = await self._sleep(self.pause_s)
            link = self.link
            if link is not None and not link.leading:
                if asked:
                    link.ask_poll()  # the leader polls for our new subscriber
                self.pause_s = link.recheck_s
                continue
            now = time.monotonic()
            if link is not None and not asked and now < self._due_at:
                self.pause_s = self._due_at - now  # a follower that just took over
                continue
            waiting, self._waiters = self._waiters, []
            try:
                await self._poll()
            except Unauthenticated as error:
                self._on_poll(self.key.resource, False)
                self._task = None  # ending from inside: nothing to cancel
                if link is not None:
                    link.send("unauthenticated", str(error).encode())
                self._on_unauthenticated(self.key.credential, error)
                return
            except Exception as error:
                self.failures += 1
                self.pause_s = self._policy.backoff(self._feed.interval_s, self.failures, error)
                self._backoff_until = time.monotonic() + self.pause_s
                self._on_poll(self.key.resource, False)
                if link is not None:  # whoever takes over waits as long
                    link.send("backoff", pause_s=self.pause_s)
                if not isinstance(error, GatewayError):
                    log.exception("live %s poll failed unexpectedly", self.key.resource)
            else:
                self.failures = 0
                self.pause_s = self._policy.pause(self._feed.interval_s)
                self._on_poll(self.key.resource, True)
            finally:
                self._due_at = time.monotonic() + self.pause_s
                self._release(waiting)  # also when cancelled: nobody waits for ever

    async def _poll(self) -> None:
        subscribers = list(self.subscribers.items())
        scopes = [s.scope for s, _ in subscribers]
        if self.link is not None:
            scopes += await self.link.remote_scopes()
        loaders = self._loaders_for(self._token)
        try:
            new = await self._feed.poll(loaders, union_of(scopes), self.snapshot, scopes)
        finally:
            loaders.close()
        if self.link is not None:
            self.link.send("snapshot", self._feed.wire.encode(new))
        self._take(new, subscribers)

    def _take(self, new: S, subscribers: list[tuple[Subscriber[Any], Select[T]]]) -> None:
        """Diff `new` against the last snapshot once, and offer each subscriber its part.

        A subscriber not yet served waits for a snapshot that covers its filter (one
        polled before its filter reached the leader would prime it with nothing)."""
        tick = self._feed.tick(self.snapshot, new)
        self.snapshot = new
        covered = self._feed.scope_of(new)
        for subscriber, select in subscribers:
            if subscriber not in self.subscribers:
                continue
            if subscriber.primed or covers_all(covered, subscriber.scope):
                self._deliver(subscriber, select, tick)

    # --- the fleet's side (`gateway.live.fleet.Member`) ------------------------------------

    def lead_changed(self, leading: bool) -> None:
        if leading and (self.snapshot is None or time.monotonic() >= self._due_at):
            self._wake.set()  # nothing seen yet, or the leader before us is overdue

    def received(self, envelope: Envelope) -> None:
        """A message from another replica on this cohort's channel."""
        if envelope.kind == "snapshot":
            try:
                new = self._feed.wire.decode(envelope.body)
            except ValueError:
                log.warning("live %s: an unreadable snapshot from the fleet", self.key.resource)
                return
            self.failures = 0
            self._due_at = time.monotonic() + self._policy.pause(self._feed.interval_s)
            waiting, self._waiters = self._waiters, []
            self._take(new, list(self.subscribers.items()))
            self._release(waiting)
        elif envelope.kind == "poll":
            if self.link is not None and self.link.leading and not self.failures:
                self._wake.set()
        elif envelope.kind == "backoff":
            self._due_at = self._backoff_until = time.monotonic() + envelope.pause_s
        elif envelope.kind == "unauthenticated":
            self.stop()
            self._on_unauthenticated(self.key.credential, Unauthenticated(envelope.body.decode()))

    @staticmethod
    def _deliver(subscriber: Subscriber[Any], select: Select[T], tick: T) -> None:
        for key, event in select(tick, not subscriber.primed):
            subscriber.offer(key, event)
        subscriber.primed = True

    async def _sleep(self, seconds: float) -> bool:
        """Pause for `seconds` or until woken; whether a poll was asked for."""
        if not self._wake.is_set() and seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        asked = self._wake.is_set()
        self._wake.clear()
        return asked

    @staticmethod
    def _release(waiters: list[asyncio.Future[None]]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def union_of(scopes: Iterable[LocationUids]) -> LocationUids:
    """The locations of every filter; any without one, or too many for a call: everything."""
    union: set[str] = set()
    for scope in scopes:
        if scope is None:
            return None
        union.update(scope)
    if len(union) > contract.MAX_IDS_PER_CALL:
        return None
    return tuple(sorted(union))
