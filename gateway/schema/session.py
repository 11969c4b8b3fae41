"""`ProblematicSession`: a session the upstream flags, with a drill-down to EVSE and site."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.loaders.queries import SessionQuery
from gateway.schema.connection import Connection, Paged
from gateway.schema.costs import EVSE_OF_TRANSACTION, FREE, LOCATION_BY_ID, priced
from gateway.schema.enums import TxStatus
from gateway.schema.transaction import EvIdentify, Transaction
from gateway.upstream.models import NetworkStatusSession

if TYPE_CHECKING:
    from gateway.schema.evse import Evse
    from gateway.schema.location import Location

Ctx = Info[Context, None]


@strawberry.type(description="A charging session the upstream flags as problematic.")
class ProblematicSession:
    alert: str | None = strawberry.field(description="What went wrong, as the upstream says it.")
    status: TxStatus | None = strawberry.field(description="Phase of the session.")
    start_time: datetime | None = strawberry.field(
        description="When the session began (ISO 8601, UTC)."
    )
    end_time: datetime | None = strawberry.field(
        description="When the session ended (ISO 8601, UTC); null while it runs."
    )
    ev_id: str | None = strawberry.field(
        description="The upstream's id of the vehicle; null if unrecognised."
    )
    ev_identify: EvIdentify | None = strawberry.field(
        description="How the upstream identified the vehicle; null if it did not."
    )
    ev_model: str | None = strawberry.field(description="Vehicle model, if known.")
    ev_name: str | None = strawberry.field(description="Vehicle name, if known.")
    schedule_id: str | None = strawberry.field(
        description="Id of a charging schedule, presumably a depot one; null if none."
    )
    location_uid: strawberry.Private[str | None]
    transaction_row: strawberry.Private[Transaction | None]

    @classmethod
    def from_row(cls, row: NetworkStatusSession) -> ProblematicSession:
        tx = row.transaction
        return cls(
            alert=row.alert,
            status=row.status,
            start_time=row.start_time,
            end_time=row.end_time,
            ev_id=row.ev_id,
            ev_identify=EvIdentify.from_row(row.ev_identify),
            ev_model=row.ev_model,
            ev_name=row.ev_name,
            schedule_id=row.schedule_id,
            location_uid=row.location_uid,
            transaction_row=(
                Transaction.from_session(tx, location_uid=row.location_uid, status=row.status)
                if tx is not None and tx.tx_id
                else None
            ),
        )

    @strawberry.field(
        description="The session's transaction (the summary the upstream sends).",
        metadata=priced(FREE),
    )
    def transaction(self) -> Transaction | None:
        return self.transaction_row

    @strawberry.field(
        description="The EVSE the session ran on.", metadata=priced(EVSE_OF_TRANSACTION)
    )
    async def evse(
        self, info: Ctx
    ) -> Annotated[Evse, strawberry.lazy("gateway.schema.evse")] | None:
        if self.transaction_row is None:
            return None
        return await self.transaction_row.find_evse(info)

    @strawberry.field(
        description="The site of the session; null if unknown or hidden.",
        metadata=priced(LOCATION_BY_ID),
    )
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        return await Location.load(info, self.location_uid) if self.location_uid else None


@strawberry.type(description="A page of problematic sessions.")
class ProblematicSessionConnection(Connection[ProblematicSession]):
    pass


PROBLEMATIC_SESSIONS: Paged[SessionQuery, NetworkStatusSession, ProblematicSessionConnection] = (
    Paged(
        ProblematicSessionConnection,
        "problematicSessions",
        lambda loaders, query, start, first: loaders.sessions.problematic(query, start, first),
        ProblematicSession.from_row,
    )
)
