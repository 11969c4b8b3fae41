"""`HardwareError`: an alert raised by a station, with the catalogue entry for its code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import msgspec
import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.schema.connection import Connection
from gateway.schema.filters import location_ids
from gateway.schema.paged import paged_connection
from gateway.upstream.models import HardwareError as HardwareErrorRow
from gateway.upstream.models import HardwareErrorDefinition
from gateway.upstream.pages import Page

if TYPE_CHECKING:
    from gateway.schema.location import Location
    from gateway.schema.station import Station

Ctx = Info[Context, None]


@strawberry.type(description="One occurrence of an error on a station.")
class HardwareAlert:
    id: str | None
    error_code: str | None
    title: str | None
    message: str | None
    type: str | None
    timestamp: datetime | None = strawberry.field(description="When the alert was raised.")
    end_time: datetime | None = strawberry.field(description="When it ended; null while active.")


@strawberry.type(description="What an error code means and how to fix it (the catalogue entry).")
class ErrorDefinition:
    code: str | None
    alias: list[str]
    severity: str | None = strawberry.field(description="Open set, e.g. critical, major, minor.")
    state: str | None = strawberry.field(description="Editorial state of the entry, e.g. draft.")
    description: str | None
    documentation: str | None
    possible_cause: str | None
    potential_impact: str | None
    potential_solution: str | None
    self_help_steps: str | None
    vendor: str | None
    version_created_timestamp: datetime | None
    version_modified_timestamp: datetime | None

    @classmethod
    def from_row(cls, row: HardwareErrorDefinition) -> ErrorDefinition:
        return cls(
            code=row.code,
            alias=list(row.alias or ()),
            severity=row.severity,
            state=row.state,
            description=row.description,
            documentation=row.documentation,
            possible_cause=row.possible_cause,
            potential_impact=row.potential_impact,
            potential_solution=row.potential_solution,
            self_help_steps=row.self_help_steps,
            vendor=row.vendor,
            version_created_timestamp=row.version_created_timestamp,
            version_modified_timestamp=row.version_modified_timestamp,
        )


@strawberry.type(description="A hardware error record of the network.")
class HardwareError:
    station_id: strawberry.ID | None
    timestamp: datetime | None
    alert: HardwareAlert | None
    error: ErrorDefinition | None

    @classmethod
    def from_row(cls, row: HardwareErrorRow) -> HardwareError:
        alert = row.alert
        return cls(
            station_id=strawberry.ID(row.station_id) if row.station_id else None,
            timestamp=row.timestamp,
            alert=HardwareAlert(
                id=alert.id,
                error_code=alert.error_code,
                title=alert.title,
                message=alert.message,
                type=alert.type,
                timestamp=alert.timestamp,
                end_time=alert.end_time,
            )
            if alert
            else None,
            error=ErrorDefinition.from_row(row.error) if row.error else None,
        )

    @strawberry.field(description="True while the alert has not ended.")
    def active(self) -> bool:
        return self.alert is not None and self.alert.end_time is None

    @strawberry.field
    async def station(
        self, info: Ctx
    ) -> Annotated[Station, strawberry.lazy("gateway.schema.station")] | None:
        from gateway.schema.station import Station

        if self.station_id is None:
            return None
        try:
            return Station.from_live(
                await info.context.loaders.station_live.load(str(self.station_id))
            )
        except NotFound:
            return None

    @strawberry.field(description="The site of the station (records carry no location).")
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        if self.station_id is None:
            return None
        try:
            uid = await info.context.loaders.location_of_station(str(self.station_id))
        except NotFound:
            return None
        return await Location.load(info, uid)


@strawberry.type(description="A page of hardware errors.")
class HardwareErrorConnection(Connection[HardwareError]):
    pass


@strawberry.input(description="Every given condition must hold.")
class HardwareErrorFilter:
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only stations at these locations (at most 100)."
    )
    station_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these stations (applied by the gateway)."
    )
    severities: list[str] | None = strawberry.field(
        default=None, description="Only these severities, case-insensitive (by the gateway)."
    )
    active_only: bool = strawberry.field(
        default=False, description="Only alerts that have not ended (by the gateway)."
    )


async def hardware_error_connection(
    info: Ctx,
    first: int,
    after: str | None,
    filter: HardwareErrorFilter | None,
    *,
    location_uids: list[str] | None = None,
    station_id: str | None = None,
) -> HardwareErrorConnection:
    filter = filter or HardwareErrorFilter()
    uids = location_uids if location_uids is not None else location_ids(filter.location_ids)
    stations = {str(sid) for sid in filter.station_ids or ()} or None
    if station_id is not None:
        stations = {station_id} if stations is None or station_id in stations else set()
    severities = {s.casefold() for s in filter.severities} if filter.severities else None

    def keep(row: HardwareErrorRow) -> bool:
        if stations is not None and row.station_id not in stations:
            return False
        if severities is not None:
            severity = row.error.severity if row.error else None
            if (severity or "").casefold() not in severities:
                return False
        return not filter.active_only or (row.alert is not None and row.alert.end_time is None)

    upstream = info.context.upstream
    deadline = info.context.deadline

    async def fetch(token: str, page_token: str | None) -> Page[HardwareErrorRow]:
        return await upstream.hardware_errors_page(
            token=token, location_uids=uids, page_token=page_token, deadline=deadline
        )

    station_key = sorted(stations) if stations is not None else None
    key = [uids, station_key, sorted(severities or ()), filter.active_only]
    return await paged_connection(
        info,
        HardwareErrorConnection,
        list_name="hardwareErrors",
        filter_key=msgspec.json.encode(key).decode(),
        upstream_key=msgspec.json.encode(uids).decode(),
        first=first,
        after=after,
        fetch=fetch,
        node=HardwareError.from_row,
        row_key=_error_key,
        keep=keep,
    )


def _error_key(row: HardwareErrorRow) -> str:
    alert_id = row.alert.id if row.alert else None
    return alert_id or f"{row.station_id}|{row.timestamp}"
