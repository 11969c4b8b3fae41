"""The `Evse` type: one connector of a station, with its live state from network status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound, UpstreamError
from gateway.schema.enums import EvseStatus, EvseType, TxStatus
from gateway.schema.federation import entity_key
from gateway.upstream.models import NetworkEvseStatus

if TYPE_CHECKING:
    from gateway.schema.filters import TransactionFilter
    from gateway.schema.location import Location
    from gateway.schema.station import Station
    from gateway.schema.transaction import Transaction, TransactionConnection

Ctx = Info[Context, None]


@strawberry.federation.type(
    keys=["stationId evseId"], description="One EVSE (connector) of a station."
)
class Evse:
    station_id: strawberry.ID
    evse_id: strawberry.ID = strawberry.field(description="Unique only within its station.")
    name: str | None
    type: EvseType | None
    status: EvseStatus | None
    max_power_kw: float | None = strawberry.field(description="Maximum output now, kW.")
    max_power_kw_without_dynamic_limit: float | None = strawberry.field(
        description="Maximum output before load-management limits, kW."
    )
    tx_id: strawberry.ID | None = strawberry.field(description="The session on the EVSE, if any.")
    tx_status: TxStatus | None

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
    async def resolve_reference(cls, info: Ctx, **key: object) -> Evse | None:
        """A router's `_entities` call: keys arrive as written in `@key` (camelCase)."""
        return await cls.load(info, entity_key(key, "stationId"), entity_key(key, "evseId"))

    @strawberry.field
    async def station(
        self, info: Ctx
    ) -> Annotated[Station, strawberry.lazy("gateway.schema.station")] | None:
        from gateway.schema.station import Station

        try:
            row = await info.context.loaders.stations.live(str(self.station_id))
        except NotFound:
            return None
        return Station.from_live(row)

    @strawberry.field
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        uid = await info.context.loaders.stations.location_of(str(self.station_id))
        return await Location.load(info, uid)

    @strawberry.field(description="The session running on this EVSE now, if any.")
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
        except UpstreamError:
            # The details are missing, but network status already knows the session.
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

    @strawberry.field(description="Sessions on this EVSE, newest first.")
    async def transactions(
        self,
        info: Ctx,
        first: int = 50,
        after: str | None = None,
        filter: Annotated[TransactionFilter, strawberry.lazy("gateway.schema.filters")]
        | None = None,
    ) -> Annotated[TransactionConnection, strawberry.lazy("gateway.schema.transaction")] | None:
        from gateway.schema.filters import TransactionFilter
        from gateway.schema.transaction import EVSE_TRANSACTIONS

        query = TransactionFilter.of_evse(
            filter, station_id=str(self.station_id), evse_id=str(self.evse_id)
        )
        return await EVSE_TRANSACTIONS.page(info, query, first, after)
