"""Power in use now, and the dashboard header that sums up a network."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.loaders.queries import LocationUids
from gateway.schema.costs import LOCATION_BY_ID, Ask, Charge, Cost, Level, priced
from gateway.schema.enums import EvseStatus, TxStatus
from gateway.schema.selection import selected_names
from gateway.upstream.models import LocationPower as LocationPowerRow

if TYPE_CHECKING:
    from gateway.schema.location import Location

Ctx = Info[Context, None]


@strawberry.type(description="Power in use at one location right now.")
class LocationPower:
    location_uid: strawberry.Private[str]
    current_power_kw: float | None = strawberry.field(description="Output power now, kW.")
    session_count: int | None = strawberry.field(description="Sessions running now.")

    @classmethod
    def from_row(cls, row: LocationPowerRow) -> LocationPower:
        return cls(
            location_uid=row.location_uid,
            current_power_kw=row.current_power_kw,
            session_count=row.session_count,
        )

    @strawberry.field(
        description="The site these figures are for; null if unknown or hidden.",
        metadata=priced(LOCATION_BY_ID),
    )
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        return await Location.load(info, self.location_uid)


def _each_location(level: Level, ask: Ask) -> Level:
    # One row per chosen location (`level.locations` holds how many were chosen).
    return Level(parents=level.locations, locations=level.locations, stations=level.stations)


@strawberry.type(description="Power in use right now: the total and per location.")
class NetworkPower:
    total_power_kw: float = strawberry.field(
        description="Output power in use across the chosen locations now, kW."
    )
    session_count: int = strawberry.field(
        description="Sessions running across the chosen locations now."
    )
    locations: list[LocationPower] = strawberry.field(
        description="The figures of each location, as the upstream lists them.",
        metadata=priced(Cost(below=_each_location)),
    )


@strawberry.type(description="How many EVSEs are in one status.")
class EvseStatusCount:
    status: EvseStatus = strawberry.field(description="The live status counted.")
    count: int = strawberry.field(description="How many EVSEs are in it.")


@strawberry.type(description="The dashboard header for a network or a set of locations.")
class NetworkSummary:
    location_count: int = strawberry.field(
        description="Locations counted: the chosen ones, or all visible."
    )
    station_count: int = strawberry.field(description="Stations at those locations.")
    evse_count: int = strawberry.field(description="EVSEs at those stations.")
    evses_by_status: list[EvseStatusCount] = strawberry.field(
        description="Every status with at least one EVSE, most common first."
    )
    faulted_evse_count: int = strawberry.field(description="EVSEs in the FAULTED status.")
    active_sessions: int = strawberry.field(
        description="EVSEs with a session that has not ended (from network status)."
    )
    location_uids: strawberry.Private[LocationUids]
    # A subscription's figure from the shared power poll, read instead of a call per event.
    live_power_kw: strawberry.Private[Callable[[], Awaitable[float | None]] | None] = None

    @strawberry.field(
        description="Total output power now, kW; null alone if power fails.",
        metadata=priced(Cost(lambda level, ask: Charge(1, shared="power", once=True))),
    )
    async def current_power_kw(self, info: Ctx) -> float | None:
        if self.live_power_kw is not None:
            return await self.live_power_kw()
        return (await network_power(info, self.location_uids)).total_power_kw


async def network_power(info: Ctx, location_uids: LocationUids) -> NetworkPower:
    rows = await info.context.loaders.power.of(location_uids)
    return NetworkPower(
        total_power_kw=round(sum(row.current_power_kw or 0.0 for row in rows), 3),
        session_count=sum(row.session_count or 0 for row in rows),
        locations=[LocationPower.from_row(row) for row in rows],
    )


async def network_summary(info: Ctx, location_uids: LocationUids) -> NetworkSummary:
    loaders = info.context.loaders
    if "currentPowerKw" in selected_names(info):
        # Start the power call now, alongside the status walk; the nested field shares it.
        loaders.power.prefetch_set(location_uids)
    if location_uids is None:
        trees = await loaders.network_status.whole_network()
    else:
        trees = tuple(await loaders.network_status.by_location.load_many(location_uids))
    evses = [evse for tree in trees for station in tree.stations for evse in station.evses]
    by_status = Counter(evse.status or EvseStatus.UNKNOWN for evse in evses)
    return NetworkSummary(
        location_count=len(trees),
        station_count=sum(len(tree.stations) for tree in trees),
        evse_count=len(evses),
        evses_by_status=[
            EvseStatusCount(status=status, count=count) for status, count in by_status.most_common()
        ],
        faulted_evse_count=by_status.get(EvseStatus.FAULTED, 0),
        active_sessions=sum(
            1 for evse in evses if evse.tx_id and evse.tx_status not in (None, TxStatus.ENDED)
        ),
        location_uids=location_uids,
    )
