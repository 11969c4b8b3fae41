"""`LiveHub`: what subscription resolvers ask for, one method per kind of event.

Each method joins a subscriber to its credential's cohort of the view it needs and hands
back the subscriber; its `events()` ends when the client leaves, or fails with the error
that ended the cohort (UNAUTHENTICATED when the upstream refused the token).
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.errors import GatewayError, ShuttingDown, TooManySubscriptions, Unauthenticated
from gateway.live.cohorts import Cohort, CohortKey, Feed, Select
from gateway.live.diff import EvseChange, PowerChange, SummaryCounts, evse_state
from gateway.live.feeds import (
    ERRORS,
    POWER,
    STATUS,
    ErrorRaised,
    ErrorTick,
    PowerTick,
    StatusTick,
    poll_errors,
    poll_power,
    poll_status,
)
from gateway.live.fleet import Fleet
from gateway.live.policy import PollPolicy
from gateway.live.snapshots import EvseSeen, covers
from gateway.live.subscriber import Merge, Subscriber, latest
from gateway.live.watch import PowerWatch
from gateway.live.wire import ERRORS_WIRE, POWER_WIRE, STATUS_WIRE
from gateway.loaders import Loaders
from gateway.loaders.hardware_errors import error_key
from gateway.loaders.queries import LocationUids
from gateway.shared import credential_digest
from gateway.upstream.models import EvseStatus

E = TypeVar("E")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LiveLimits:
    status_interval_s: float = 5.0
    power_interval_s: float = 10.0
    errors_interval_s: float = 15.0
    max_subscriptions_per_credential: int = 500
    max_pending_events: int = 1000
    max_error_pages: int = 10  # pages of new hardware errors one poll may read


@dataclass
class LiveStats:
    """What the live layer did, for the metrics."""

    polls: Counter[tuple[str, bool]]  # (resource, succeeded)
    events: int = 0


class LiveHub:
    def __init__(
        self,
        loaders_for: Callable[[str], Loaders],
        limits: LiveLimits | None = None,
        policy: PollPolicy | None = None,
        *,
        on_poll: Callable[[str, bool], None] | None = None,
        on_event: Callable[[], None] | None = None,
        fleet: Fleet | None = None,
    ) -> None:
        self.limits = limits = limits or LiveLimits()
        self._loaders_for = loaders_for
        self._policy = policy or PollPolicy()
        self._cohorts: dict[CohortKey, Cohort[Any, Any]] = {}
        self._per_credential: Counter[str] = Counter()
        self.stats = LiveStats(Counter())
        self._on_poll = on_poll
        self._on_event = on_event
        self._closed = False
        self.fleet = fleet  # replicas sharing Redis: one poller per cohort among them
        self._status = Feed(
            STATUS, limits.status_interval_s, poll_status, StatusTick, _scope, STATUS_WIRE
        )
        self._power = Feed(
            POWER, limits.power_interval_s, poll_power, PowerTick, _scope, POWER_WIRE
        )
        walk_errors = functools.partial(poll_errors, max_pages=limits.max_error_pages)
        self._errors = Feed(
            ERRORS, limits.errors_interval_s, walk_errors, ErrorTick, _scope, ERRORS_WIRE
        )

    # --- what the resolvers ask for -------------------------------------------------------

    def evse_changes(
        self,
        token: str,
        scope: LocationUids,
        *,
        statuses: frozenset[EvseStatus] | None = None,
        include_initial: bool = False,
    ) -> Subscriber[EvseChange]:
        """Changes of EVSEs in `scope` into one of `statuses` (any if None); first the
        state of each such EVSE, with `include_initial`."""

        def wanted(seen: EvseSeen) -> bool:
            return covers(scope, seen.location_uid) and (
                statuses is None or seen.row.status in statuses
            )

        def select(tick: StatusTick, first: bool) -> Iterable[tuple[Hashable, EvseChange]]:
            if first and include_initial:
                for seen in tick.new.evses.values():
                    if wanted(seen):
                        yield seen.key, EvseChange(None, seen)
                return
            for change in tick.changes:
                if wanted(change.after):
                    yield change.key, change

        return self._join(token, self._status, scope, select, _merge_evse)

    def summaries(self, token: str, scope: LocationUids) -> Subscriber[SummaryCounts]:
        last: list[SummaryCounts] = []

        def select(tick: StatusTick, first: bool) -> Iterable[tuple[Hashable, SummaryCounts]]:
            counts = tick.summary(scope)
            if not last or counts != last[0]:
                last[:] = [counts]
                yield "summary", counts

        return self._join(token, self._status, scope, select, latest)

    def power_watch(self, token: str, scope: LocationUids) -> PowerWatch:
        """The latest power over `scope` from the credential's power poll, for a summary
        subscription that selects it (part of that subscription: not counted again)."""
        watch = PowerWatch(scope)
        power = self._power
        watch.subscriber = self._join(token, power, scope, watch.select, latest, counted=False)
        watch.cohort = self._cohorts.get(CohortKey(credential_digest(token), POWER))
        return watch

    def power_changes(self, token: str, scope: LocationUids) -> Subscriber[PowerChange]:
        def select(tick: PowerTick, first: bool) -> Iterable[tuple[Hashable, PowerChange]]:
            for change in tick.changes:
                if covers(scope, change.after.location_uid):
                    yield change.after.location_uid, change

        return self._join(token, self._power, scope, select, _merge_power)

    def errors_raised(self, token: str, scope: LocationUids) -> Subscriber[ErrorRaised]:
        def select(tick: ErrorTick, first: bool) -> Iterable[tuple[Hashable, ErrorRaised]]:
            for raised in tick.raised:
                if scope is None or covers(scope, raised.location_uid):
                    yield error_key(raised.row), raised

        return self._join(token, self._errors, scope, select, latest)

    # --- cohorts --------------------------------------------------------------------------

    @property
    def cohort_count(self) -> int:
        return len(self._cohorts)

    def cohorts(self) -> list[Cohort[Any, Any]]:
        """The cohorts polling now (for operations tooling and the tests)."""
        return list(self._cohorts.values())

    @property
    def leading_count(self) -> int:
        """Cohorts this replica polls for (all of them without a fleet)."""
        return sum(c.link is None or c.link.leading for c in self._cohorts.values())

    @property
    def subscription_count(self) -> int:
        return sum(self._per_credential.values())

    async def poll_round(self) -> None:
        """Poll every cohort now, and return when each has finished a poll begun after
        this call (tests step the emulator's clock, then call this, never sleep)."""
        await asyncio.gather(*(cohort.poll_now() for cohort in list(self._cohorts.values())))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, error: GatewayError | None = None) -> None:
        """End every subscription (the gateway is shutting down), and refuse new ones.

        Idempotent: the server calls it when its shutdown begins, the lifespan again."""
        self._closed = True
        error = error or ShuttingDown("The gateway is shutting down; subscribe again.")
        for cohort in list(self._cohorts.values()):
            cohort.end(error)
        self._cohorts.clear()
        self._per_credential.clear()

    def _join(
        self,
        token: str,
        feed: Feed[Any, T],
        scope: LocationUids,
        select: Select[T],
        merge: Merge[E],
        *,
        counted: bool = True,
    ) -> Subscriber[E]:
        if self._closed:
            # A request already read when the shutdown began: no poll may start now.
            raise ShuttingDown("The gateway is shutting down; subscribe again.")
        digest = credential_digest(token)
        limit = self.limits.max_subscriptions_per_credential
        if counted and self._per_credential[digest] >= limit:
            raise TooManySubscriptions(
                f"At most {self.limits.max_subscriptions_per_credential} live subscriptions "
                "per credential; end one first."
            )
        key = CohortKey(digest, feed.resource)
        cohort = self._cohorts.get(key)
        if cohort is None:
            cohort = self._cohorts[key] = Cohort(
                key,
                token,
                feed,
                self._loaders_for,
                self._policy,
                self._unauthenticated,
                self._forget,
                self._polled,
            )
            if self.fleet is not None:
                cohort.link = self.fleet.link(key, cohort)
        subscriber: Subscriber[E] = Subscriber(scope, self.limits.max_pending_events, merge)
        self._per_credential[digest] += counted
        joined = cohort

        def leave(gone: Subscriber[Any]) -> None:
            self._per_credential[digest] -= counted
            if self._per_credential[digest] <= 0:
                del self._per_credential[digest]
            joined.leave(gone)

        subscriber.on_close = leave
        subscriber.on_offer = self._pushed
        cohort.join(subscriber, select)
        return subscriber

    def _unauthenticated(self, credential: str, error: Unauthenticated) -> None:
        """The upstream refused the token: end every cohort of that credential."""
        for key in [key for key in self._cohorts if key.credential == credential]:
            self._cohorts.pop(key).end(error)

    def _forget(self, cohort: Cohort[Any, Any]) -> None:
        if self._cohorts.get(cohort.key) is cohort:
            del self._cohorts[cohort.key]

    def _polled(self, resource: str, succeeded: bool) -> None:
        self.stats.polls[(resource, succeeded)] += 1
        if self._on_poll is not None:
            self._on_poll(resource, succeeded)

    def _pushed(self) -> None:
        self.stats.events += 1
        if self._on_event is not None:
            self._on_event()


def _scope(snapshot: Any) -> LocationUids:
    scope: LocationUids = snapshot.scope
    return scope


def _merge_evse(pending: EvseChange, newer: EvseChange) -> EvseChange | None:
    """A slow consumer's pending change and a newer one of the same EVSE: from the first
    state to the last; nothing when the EVSE is back where it was."""
    before = pending.before
    if before is not None and evse_state(before) == evse_state(newer.after):
        return None
    return EvseChange(before, newer.after)


def _merge_power(pending: PowerChange, newer: PowerChange) -> PowerChange:
    return PowerChange(pending.before, newer.after)
