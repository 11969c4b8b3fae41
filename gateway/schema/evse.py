"""The `Evse` type: one connector of a station, with its live state from network status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.schema.connection import After, First
from gateway.schema.costs import (
    LOCATION_BY_ID,
    Ask,
    Charge,
    Cost,
    Level,
    batches,
    filtered_pages,
    first_of,
    priced,
)
from gateway.schema.enums import EvseStatus, EvseType, TxStatus
from gateway.schema.federation import entity_key
from gateway.upstream.models import NetworkEvseStatus

if TYPE_CHECKING:
    from gateway.schema.filters import TransactionFilter
    from gateway.schema.location import Location
    from gateway.schema.station import Station
    from gateway.schema.transaction import Transaction, TransactionConnection

Ctx = Info[Context, None]


# --- what the relations of an EVSE cost upstream (see gateway/schema/costs.py) -------------
def _station_below(level: Level, ask: Ask) -> Level:
    # EVSEs come from status trees, which hold their stations: looking one up is free.
    return Level(parents=level.stations, locations=level.locations, stations=level.stations)


def _stations_api(level: Level, ask: Ask) -> Charge:
    # The running session's details: GET /stations, batched by station.
    return Charge(batches(min(level.parents, level.stations)), shared="stations api")


def _session_below(level: Level, ask: Ask) -> Level:
    return Level(
        parents=level.parents,
        locations=level.locations,
        stations=level.stations,
        station_known=True,
    )


def _station_lists(level: Level, ask: Ask) -> Charge:
    # The station's list in the Transactions API, filtered to the EVSE: EVSEs of one
    # station share its pages.
    return Charge(min(level.parents, level.stations) * filtered_pages(ask))


def _session_rows(level: Level, ask: Ask) -> Level:
    return Level(
        parents=level.parents,
        page=first_of(ask),
        locations=level.locations,
        stations=level.stations,
        station_known=True,
    )


@strawberry.federation.type(
    keys=["stationId evseId"], description="One EVSE (connector) of a station."
)
class Evse:
    station_id: strawberry.ID = strawberry.field(
        description="The station the EVSE belongs to; with `evseId` the EVSE's global key."
    )
    evse_id: strawberry.ID = strawberry.field(description="Unique only within its station.")
    name: str | None = strawberry.field(description="Display name, e.g. a nozzle number.")
    type: EvseType | None = strawberry.field(description="Connector standard; null if not sent.")
    status: EvseStatus | None = strawberry.field(
        description="Live state from the network status view; null if not sent."
    )
    max_power_kw: float | None = strawberry.field(description="Maximum output now, kW.")
    max_power_kw_without_dynamic_limit: float | None = strawberry.field(
        description="Maximum output before load-management limits, kW."
    )
    tx_id: strawberry.ID | None = strawberry.field(description="The session on the EVSE, if any.")
    tx_status: TxStatus | None = strawberry.field(
        description="Phase of the session on the EVSE; null when there is none."
    )

    @classmethod
    def from_row(cls, row: NetworkEvseStatus, *, station_id: str) -> Evse:
        return cls(
            station_id=strawberry.ID(station_id),
            evse_id=strawberry.ID(row.evse_id),
            name=row.evse_name,
            type=row.evse_type,
            status=row.status,
            max_power_kw=row.max_power_kw,
            max_power_kw_without_dynamic_limit=row.max_power_kw_without_dynamic_limit,
            tx_id=strawberry.ID(row.tx_id) if row.tx_id else None,
            tx_status=row.tx_status,
        )

    @classmethod
    async def load(cls, info: Ctx, station_id: str, evse_id: str) -> Evse | None:
        try:
            row = await info.context.loaders.stations.evse((station_id, evse_id))
        except NotFound:
            return None
        return cls.from_row(row, station_id=station_id)

    @classmethod
    async def resolve_reference(cls, info: Ctx, **key: object) -> Evse:
        """A router's `_entities` call: keys arrive as written in `@key` (camelCase); an
        EVSE the caller cannot see is `NOT_FOUND` at its index."""
        station_id, evse_id = entity_key(key, "stationId"), entity_key(key, "evseId")
        row = await info.context.loaders.stations.evse((station_id, evse_id))
        return cls.from_row(row, station_id=station_id)

    @strawberry.field(
        description="The station the EVSE belongs to; null if it is gone or hidden.",
        metadata=priced(Cost(below=_station_below)),
    )
    async def station(
        self, info: Ctx
    ) -> Annotated[Station, strawberry.lazy("gateway.schema.station")] | None:
        from gateway.schema.station import Station

        try:
            row = await info.context.loaders.stations.live(str(self.station_id))
        except NotFound:
            return None
        return Station.from_live(row)

    @strawberry.field(
        description="The site of the EVSE's station; null if unassigned or hidden.",
        metadata=priced(LOCATION_BY_ID),
    )
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        try:
            uid = await info.context.loaders.stations.location_of(str(self.station_id))
        except NotFound:
            return None
        return await Location.load(info, uid)

    @strawberry.field(
        description="The session running on this EVSE now, if any.",
        metadata=priced(Cost(_stations_api, _session_below)),
    )
    async def current_transaction(
        self, info: Ctx
    ) -> Annotated[Transaction, strawberry.lazy("gateway.schema.transaction")] | None:
        from gateway.schema.transaction import Transaction

        if self.tx_id is None:
            return None
        station_id, evse_id, tx_id = str(self.station_id), str(self.evse_id), str(self.tx_id)
        known = Transaction(
            tx_id=self.tx_id, status=self.tx_status, evse_id=evse_id, station_id=station_id
        )
        try:
            station = await info.context.loaders.stations.info(station_id)
        except NotFound:
            # The Charging Stations API does not list it: network status knows the session.
            return known
        connector = next((c for c in station.connectors if c.connector_id == evse_id), None)
        latest = connector.latest_transaction if connector else None
        if latest is None or latest.tx_id != tx_id:
            # The Charging Stations API has not caught up: say what network status knows.
            return known
        return Transaction.from_connector(
            latest,
            tx_id=tx_id,
            station_id=station_id,
            evse_id=evse_id,
            location_uid=station.location_uid,
        )

    @strawberry.field(
        description="Sessions on this EVSE (its station's Transactions API list), newest first.",
        metadata=priced(Cost(_station_lists, _session_rows)),
    )
    async def transactions(
        self,
        info: Ctx,
        first: First = 50,
        after: After = None,
        filter: Annotated[
            Annotated[TransactionFilter, strawberry.lazy("gateway.schema.filters")] | None,
            strawberry.argument(
                description="Narrow the sessions; `locationIds` is refused here (one EVSE)."
            ),
        ] = None,
    ) -> Annotated[TransactionConnection, strawberry.lazy("gateway.schema.transaction")] | None:
        from gateway.schema.filters import TransactionFilter
        from gateway.schema.transaction import EVSE_TRANSACTIONS

        query = TransactionFilter.of_evse(
            filter, station_id=str(self.station_id), evse_id=str(self.evse_id)
        )
        return await EVSE_TRANSACTIONS.page(info, query, first, after)
