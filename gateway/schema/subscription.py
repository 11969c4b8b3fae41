"""The subscription root: live events from the gateway's shared polls (`gateway/live/`).

Resolvers are thin: they ask the live layer for a subscriber and turn its events into
GraphQL objects. The poll behind them is shared by every subscriber of the same credential
and costs no document anything; what a document pays for is the relations it selects on
each event, which resolve through fresh loaders per event, as in a query.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import Unauthenticated
from gateway.live import LiveHub
from gateway.live.diff import EvseChange, PowerChange, SummaryCounts
from gateway.live.subscriber import Subscriber
from gateway.loaders.queries import LocationUids, location_uids
from gateway.plans.executor import SharedResults
from gateway.schema.costs import LOCATION_BY_ID, Ask, Charge, Cost, Level, priced
from gateway.schema.enums import EvseStatus, TxStatus
from gateway.schema.evse import Evse
from gateway.schema.hardware_error import HardwareError
from gateway.schema.power import EvseStatusCount, NetworkSummary
from gateway.schema.selection import selected_names
from gateway.upstream.models import NetworkLocationStatus

if TYPE_CHECKING:
    from gateway.schema.location import Location

Ctx = Info[Context, None]
E = TypeVar("E")


# --- what the subscription fields cost (see gateway/schema/costs.py) -----------------------
def _shared_poll(level: Level, ask: Ask) -> Charge:
    return Charge(0)  # the cohort's poll, shared by every subscriber of the credential


def _one_event(level: Level, ask: Ask) -> Level:
    # Each event is one object at one location and station; its relations are priced so.
    return Level()


def _chosen_locations(level: Level, ask: Ask) -> Level:
    ids = ask.arg("locationIds")
    n = len(ids) if isinstance(ids, list) else ask.shape.location_bound
    return Level(locations=n, stations=n * ask.shape.stations_bound)


LIVE = Cost(_shared_poll, _one_event)


@strawberry.type(description="A change of one EVSE's status, session state or session.")
class EvseStatusChange:
    evse: Evse = strawberry.field(description="The EVSE as the poll saw it; relations resolve.")
    location_id: strawberry.ID = strawberry.field(description="The EVSE's location.")
    previous_status: EvseStatus | None = strawberry.field(
        description="The status before; null for an initial state."
    )
    status: EvseStatus | None = strawberry.field(description="The status now.")
    previous_tx_status: TxStatus | None = strawberry.field(
        description="The session state before; null for an initial state or no session."
    )
    tx_status: TxStatus | None = strawberry.field(description="The session state now.")
    previous_tx_id: strawberry.ID | None = strawberry.field(
        description="The session on the EVSE before, if any."
    )
    tx_id: strawberry.ID | None = strawberry.field(
        description="The session on the EVSE now, if any (`evse.currentTransaction` for more)."
    )
    initial: bool = strawberry.field(
        description="True for the state when subscribing (`includeInitial`), not a change."
    )
    seen_at: datetime = strawberry.field(description="When the gateway's poll saw it (UTC).")
    # Results of this event per (document, token, variables), shared by its subscribers.
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, change: EvseChange, seen_at: datetime) -> EvseStatusChange:
        before, after = change.before, change.after
        old = before.row if before is not None else None
        new = after.row
        return cls(
            evse=Evse.from_row(new, station_id=after.station_id),
            location_id=strawberry.ID(after.location_uid),
            previous_status=old.status if old else None,
            status=new.status,
            previous_tx_status=old.tx_status if old else None,
            tx_status=new.tx_status,
            previous_tx_id=strawberry.ID(old.tx_id) if old and old.tx_id else None,
            tx_id=strawberry.ID(new.tx_id) if new.tx_id else None,
            initial=before is None,
            seen_at=seen_at,
        )


@strawberry.type(description="A change of the power in use or the sessions at one location.")
class LocationPowerUpdate:
    location_id: strawberry.ID = strawberry.field(description="The location.")
    previous_power_kw: float | None = strawberry.field(description="Output power before, kW.")
    current_power_kw: float | None = strawberry.field(description="Output power now, kW.")
    previous_session_count: int | None = strawberry.field(description="Sessions before.")
    session_count: int | None = strawberry.field(description="Sessions running now.")
    seen_at: datetime = strawberry.field(description="When the gateway's poll saw it (UTC).")
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, change: PowerChange, seen_at: datetime) -> LocationPowerUpdate:
        before, after = change.before, change.after
        return cls(
            location_id=strawberry.ID(after.location_uid),
            previous_power_kw=before.current_power_kw if before else None,
            current_power_kw=after.current_power_kw,
            previous_session_count=before.session_count if before else None,
            session_count=after.session_count,
            seen_at=seen_at,
        )

    @strawberry.field(description="The location, as in queries.", metadata=priced(LOCATION_BY_ID))
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        return await Location.load(info, str(self.location_id))


def summary_of(
    counts: SummaryCounts,
    scope: LocationUids,
    power_kw: Callable[[], Awaitable[float | None]] | None = None,
) -> NetworkSummary:
    return NetworkSummary(
        location_count=counts.location_count,
        station_count=counts.station_count,
        evse_count=counts.evse_count,
        evses_by_status=[EvseStatusCount(status=s, count=n) for s, n in counts.by_status],
        faulted_evse_count=counts.faulted,
        active_sessions=counts.active_sessions,
        location_uids=scope,
        live_power_kw=power_kw,
    )


def _live(info: Ctx) -> tuple[LiveHub, str]:
    """The live layer and the caller's token (UNAUTHENTICATED without one)."""
    live = info.context.live
    if live is None:
        raise Unauthenticated("Subscriptions need the gateway's live layer.")
    return live, info.context.loaders.token


async def _events(
    info: Ctx,
    subscriber: Subscriber[E],
    trees: Callable[[E], Iterable[NetworkLocationStatus]] | None = None,
) -> AsyncGenerator[E, None]:
    """The subscriber's events, each to be resolved through fresh loaders (primed with the
    status trees the poll just read, where the event has them)."""
    try:
        async for event in subscriber.events():
            info.context.renew()
            if trees is not None:
                info.context.loaders.prime_status(trees(event))
            yield event
    finally:
        subscriber.close()  # the client left (or the stream failed): leave the cohort
        info.context.loaders.close()


LOCATIONS = strawberry.argument(description="Only these locations (all if omitted).")


@strawberry.type(
    description="Live events, from one upstream poll per credential and view for all "
    "of its subscribers."
)
class Subscription:
    @strawberry.subscription(
        description="Changes of EVSE status, session state or session, one event per EVSE "
        "changed (filtered to these locations and to changes into these statuses).",
        metadata=priced(LIVE),
    )
    async def evse_status_changes(
        self,
        info: Ctx,
        location_ids: Annotated[list[strawberry.ID] | None, LOCATIONS] = None,
        statuses: Annotated[
            list[EvseStatus] | None,
            strawberry.argument(description="Only changes into these statuses."),
        ] = None,
        include_initial: Annotated[
            bool,
            strawberry.argument(description="First the state of every EVSE in the filter."),
        ] = False,
    ) -> AsyncGenerator[EvseStatusChange, None]:
        live, token = _live(info)
        subscriber = live.evse_changes(
            token,
            location_uids(location_ids),
            statuses=frozenset(statuses) if statuses is not None else None,
            include_initial=include_initial,
        )
        async for change in _events(info, subscriber, _tree_of):
            yield _SHARED.of(change, functools.partial(EvseStatusChange.of, change, _now()))

    @strawberry.subscription(
        description="Power in use and sessions per location, whenever they change.",
        metadata=priced(LIVE),
    )
    async def location_power(
        self, info: Ctx, location_ids: Annotated[list[strawberry.ID] | None, LOCATIONS] = None
    ) -> AsyncGenerator[LocationPowerUpdate, None]:
        live, token = _live(info)
        subscriber = live.power_changes(token, location_uids(location_ids))
        async for power in _events(info, subscriber):
            yield _SHARED.of(power, functools.partial(LocationPowerUpdate.of, power, _now()))

    @strawberry.subscription(
        description="The dashboard header: first as it is, then whenever a count changes.",
        metadata=priced(Cost(_shared_poll, _chosen_locations)),
    )
    async def network_summary_changes(
        self, info: Ctx, location_ids: Annotated[list[strawberry.ID] | None, LOCATIONS] = None
    ) -> AsyncGenerator[NetworkSummary, None]:
        live, token = _live(info)
        scope = location_uids(location_ids)
        subscriber = live.summaries(token, scope)
        # The power comes from the credential's shared power poll, not a call per event.
        watch = live.power_watch(token, scope) if "currentPowerKw" in selected_names(info) else None
        try:
            async for counts in _events(info, subscriber):
                yield summary_of(counts, scope, watch.total_kw if watch is not None else None)
        finally:
            if watch is not None:
                watch.close()

    @strawberry.subscription(
        description="Hardware errors as the upstream first lists them (newest first, read "
        "down to the errors seen before).",
        metadata=priced(LIVE),
    )
    async def hardware_errors_raised(
        self, info: Ctx, location_ids: Annotated[list[strawberry.ID] | None, LOCATIONS] = None
    ) -> AsyncGenerator[HardwareError, None]:
        live, token = _live(info)
        subscriber = live.errors_raised(token, location_uids(location_ids))
        async for raised in _events(info, subscriber):
            yield HardwareError.from_row(raised.row)


class SharedEvents:
    """One GraphQL event object per live event, whichever subscriber yields it first, so
    the subscribers of a cohort can share its results (`plans.executor.shared_results`).
    Keyed by the live event's identity, checked; the last `size` are kept."""

    def __init__(self, size: int = 4096) -> None:
        self._made: OrderedDict[int, tuple[object, Any]] = OrderedDict()
        self._size = size

    def of(self, source: object, build: Callable[[], E]) -> E:
        found = self._made.get(id(source))
        if found is not None and found[0] is source:
            made: E = found[1]
            return made
        made = build()
        self._made[id(source)] = (source, made)
        while len(self._made) > self._size:
            self._made.popitem(last=False)
        return made


_SHARED = SharedEvents()


def _tree_of(change: EvseChange) -> tuple[NetworkLocationStatus, ...]:
    return (change.after.tree,)


def _now() -> datetime:
    return datetime.now(UTC)
