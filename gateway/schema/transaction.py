"""The `Transaction` type, built from whichever upstream view carried the session.

The network transactions view is the main source; an EVSE's running session comes from
its connector in the Charging Stations API; a problematic session carries a summary.
Fields a source does not have are null.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.loaders.queries import EvseTransactionQuery, TransactionQuery
from gateway.schema.connection import Connection, Paged
from gateway.schema.costs import EVSE_OF_TRANSACTION, LOCATION_BY_ID, priced
from gateway.schema.enums import TechnicalFailClassification, TxStatus
from gateway.upstream.models import (
    ConnectorTransaction,
    NetworkStatusTransaction,
    SessionTransaction,
    TransactionRecord,
)
from gateway.upstream.models import (
    EvIdentify as EvIdentifyRow,
)

if TYPE_CHECKING:
    from gateway.schema.evse import Evse
    from gateway.schema.location import Location

Ctx = Info[Context, None]


@strawberry.type(description="The upstream's identification of the vehicle.")
class EvIdentify:
    display_name: str | None = strawberry.field(
        description="Name shown for the identified vehicle, e.g. a model name."
    )
    clustering_timestamp: datetime | None = strawberry.field(
        description="When the upstream clustered the vehicle (ISO 8601, UTC); undocumented."
    )
    seq_no: int | None = strawberry.field(
        description="Sequence number of the identification; its meaning is not documented."
    )

    @classmethod
    def from_row(cls, row: EvIdentifyRow | None) -> EvIdentify | None:
        if row is None:
            return None
        return cls(
            display_name=row.display_name,
            clustering_timestamp=row.clustering_timestamp,
            seq_no=row.seq_no,
        )


@strawberry.type(
    description=(
        "One charging session, from plug-in or identification to unplug. A field the "
        "upstream view serving it lacks is null."
    )
)
class Transaction:
    tx_id: strawberry.ID = strawberry.field(description="ChargEye's id of the session.")
    status: TxStatus | None = strawberry.field(description="Phase of the session.")
    technical_fail_classification: TechnicalFailClassification | None = strawberry.field(
        default=None,
        description="Verdict on how the session went; null while it runs or if the view lacks it.",
    )
    start_time: datetime | None = strawberry.field(
        default=None,
        description="Plug-in or identification, whichever came first (ISO 8601, UTC).",
    )
    end_time: datetime | None = strawberry.field(
        default=None, description="When the cable was removed (ISO 8601, UTC); null while open."
    )
    update_time: datetime | None = strawberry.field(
        default=None,
        description="Last change to the record (ISO 8601, UTC); null in the network views.",
    )
    power_kw: float | None = strawberry.field(default=None, description="Output power now, kW.")
    charged_energy_kwh: float | None = strawberry.field(
        default=None, description="Energy delivered to the vehicle, kWh; null in the network views."
    )
    soc: float | None = strawberry.field(default=None, description="State of charge now, %.")
    soc_start: float | None = strawberry.field(
        default=None, description="State of charge when the session began, %."
    )
    power_limitation: str | None = strawberry.field(
        default=None,
        description="What caps the power now, e.g. Charger, Grid, Queue, Shared or Vehicle.",
    )
    ev_id: str | None = strawberry.field(
        default=None,
        description="The upstream's id of the vehicle (network lists only); null if unrecognised.",
    )
    ev_identify: EvIdentify | None = strawberry.field(
        default=None, description="How the upstream identified the vehicle; null if it did not."
    )
    evse_id: str | None = strawberry.field(
        default=None, description="The upstream EVSE id, unique only within its station."
    )
    location_uid: strawberry.Private[str | None] = None
    station_id: strawberry.Private[str | None] = None

    @classmethod
    def from_network(cls, row: NetworkStatusTransaction) -> Transaction:
        return cls(
            tx_id=strawberry.ID(row.tx_id),
            status=row.status,
            technical_fail_classification=row.technical_fail_classification,
            start_time=row.start_time,
            end_time=row.end_time,
            power_kw=row.power_kw,
            soc=row.soc,
            soc_start=row.soc_start,
            ev_id=row.ev_id,
            ev_identify=EvIdentify.from_row(row.ev_identify),
            evse_id=row.evse_id,
            location_uid=row.location_uid,
        )

    @classmethod
    def from_record(cls, row: TransactionRecord) -> Transaction:
        return cls(
            tx_id=strawberry.ID(row.tx_id),
            status=row.status,
            technical_fail_classification=row.technical_fail_classification,
            start_time=row.start_time,
            end_time=row.end_time,
            update_time=row.update_time,
            power_kw=row.power_kw,
            charged_energy_kwh=row.charged_energy_kwh,
            soc=row.soc,
            soc_start=row.soc_start,
            power_limitation=row.power_limitation,
            evse_id=row.evse_id,
            location_uid=row.location_uid,
            station_id=row.station_id,
        )

    @classmethod
    def from_connector(
        cls,
        row: ConnectorTransaction,
        *,
        tx_id: str,
        station_id: str,
        evse_id: str,
        location_uid: str | None,
    ) -> Transaction:
        return cls(
            tx_id=strawberry.ID(tx_id),
            status=row.status,
            start_time=row.start_time,
            update_time=row.update_time,
            power_kw=row.power_kw,
            charged_energy_kwh=row.charged_energy_kwh,
            soc=row.soc,
            power_limitation=row.power_limitation,
            evse_id=evse_id,
            location_uid=location_uid,
            station_id=station_id,
        )

    @classmethod
    def from_session(
        cls, row: SessionTransaction, *, location_uid: str | None, status: TxStatus | None
    ) -> Transaction:
        return cls(
            tx_id=strawberry.ID(row.tx_id or ""),
            status=status,
            power_kw=row.power_kw,
            soc=row.soc,
            soc_start=row.soc_start,
            evse_id=row.evse_id,
            location_uid=location_uid,
        )

    @strawberry.field(
        description="The EVSE the session ran on.", metadata=priced(EVSE_OF_TRANSACTION)
    )
    async def evse(
        self, info: Ctx
    ) -> Annotated[Evse, strawberry.lazy("gateway.schema.evse")] | None:
        return await self.find_evse(info)

    async def find_evse(self, info: Ctx) -> Evse | None:
        from gateway.schema.evse import Evse

        if self.evse_id is None:
            return None
        if self.station_id is not None:
            return await Evse.load(info, self.station_id, self.evse_id)
        if self.location_uid is None:
            return None
        try:
            station_id, row = await info.context.loaders.transactions.evse_of(
                self.location_uid, self.evse_id, str(self.tx_id)
            )
        except NotFound:
            return None
        return Evse.from_row(row, station_id=station_id)

    @strawberry.field(description="The location of the session.", metadata=priced(LOCATION_BY_ID))
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        uid = self.location_uid
        if uid is None and self.station_id is not None:
            try:
                uid = await info.context.loaders.stations.location_of(self.station_id)
            except NotFound:
                return None
        return await Location.load(info, uid) if uid is not None else None


@strawberry.type(description="A page of transactions.")
class TransactionConnection(Connection[Transaction]):
    pass


NETWORK_TRANSACTIONS: Paged[TransactionQuery, NetworkStatusTransaction, TransactionConnection] = (
    Paged(
        TransactionConnection,
        "transactions",
        lambda loaders, query, start, first: loaders.transactions.network(query, start, first),
        Transaction.from_network,
    )
)
# An EVSE's sessions, from its station's list in the Transactions API.
EVSE_TRANSACTIONS: Paged[EvseTransactionQuery, TransactionRecord, TransactionConnection] = Paged(
    TransactionConnection,
    "evseTransactions",
    lambda loaders, query, start, first: loaders.transactions.of_evse(query, start, first),
    Transaction.from_record,
)
