"""`HardwareError`: an alert raised by a station, with the catalogue entry for its code."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.loaders.queries import HardwareErrorQuery, LocationUids, location_uids
from gateway.schema.connection import Connection, Paged
from gateway.schema.costs import (
    FREE,
    LOCATION_BY_ID,
    Ask,
    Charge,
    Cost,
    Level,
    batches,
    priced,
    status_pages,
)
from gateway.upstream.models import HardwareError as HardwareErrorRow
from gateway.upstream.models import HardwareErrorDefinition

if TYPE_CHECKING:
    from gateway.schema.location import Location
    from gateway.schema.station import Station

Ctx = Info[Context, None]
GATEWAY_CONDITIONS = ("stationIds", "severities", "activeOnly")  # filters applied here


def _station_of_error(level: Level, ask: Ask) -> Charge:
    # Records name a station only: GET /stations locates it, then its location's status.
    located = min(level.parents, ask.shape.location_bound)
    return Charge(batches(level.parents) + status_pages(ask.limits, located))


def _location_of_error(level: Level, ask: Ask) -> Charge:
    return Charge(batches(level.parents) + 1)


def _stations_below(level: Level, ask: Ask) -> Level:
    located = min(level.parents, ask.shape.location_bound)
    return Level(parents=level.parents, locations=located, stations=level.parents)


@strawberry.type(description="One occurrence of an error on a station.")
class HardwareAlert:
    id: str | None = strawberry.field(description="Id of this occurrence.")
    error_code: str | None = strawberry.field(
        description="The error's code; normally the same as `error.code`."
    )
    title: str | None = strawberry.field(description="Short headline of the alert.")
    message: str | None = strawberry.field(description="The alert's text from the station.")
    type: str | None = strawberry.field(
        description="Kind of alert, as the upstream names it (an open set)."
    )
    timestamp: datetime | None = strawberry.field(description="When the alert was raised.")
    end_time: datetime | None = strawberry.field(description="When it ended; null while active.")


@strawberry.type(description="What an error code means and how to fix it (the catalogue entry).")
class ErrorDefinition:
    code: str | None = strawberry.field(description="The error code the entry explains.")
    alias: list[str] = strawberry.field(
        description="Other codes or names of the same error; may be empty."
    )
    severity: str | None = strawberry.field(description="Open set, e.g. critical, major, minor.")
    state: str | None = strawberry.field(description="Editorial state of the entry, e.g. draft.")
    description: str | None = strawberry.field(description="What the error means.")
    documentation: str | None = strawberry.field(
        description="Further documentation of the error, as the upstream writes it."
    )
    possible_cause: str | None = strawberry.field(description="What may have caused it.")
    potential_impact: str | None = strawberry.field(
        description="What it may do to the station and its charging."
    )
    potential_solution: str | None = strawberry.field(description="How it can be fixed.")
    self_help_steps: str | None = strawberry.field(
        description="Steps an operator can try on their own."
    )
    vendor: str | None = strawberry.field(description="Maker whose hardware reports the code.")
    version_created_timestamp: datetime | None = strawberry.field(
        description="When this version of the entry was created (ISO 8601, UTC)."
    )
    version_modified_timestamp: datetime | None = strawberry.field(
        description="When this version of the entry was last changed (ISO 8601, UTC)."
    )

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
    station_id: strawberry.ID | None = strawberry.field(
        description="The station that raised it (the only link the upstream record has)."
    )
    timestamp: datetime | None = strawberry.field(
        description="Time of the record (ISO 8601, UTC); see `alert.timestamp` for its start."
    )
    alert: HardwareAlert | None = strawberry.field(
        description="The occurrence: when it started and ended, and its text."
    )
    error: ErrorDefinition | None = strawberry.field(
        description="The catalogue entry for the code; null if the upstream sent none."
    )

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

    @strawberry.field(description="True while the alert has not ended.", metadata=priced(FREE))
    def active(self) -> bool:
        return self.alert is not None and self.alert.end_time is None

    @strawberry.field(
        description="The station that raised it; null if unknown or hidden.",
        metadata=priced(Cost(_station_of_error, _stations_below)),
    )
    async def station(
        self, info: Ctx
    ) -> Annotated[Station, strawberry.lazy("gateway.schema.station")] | None:
        from gateway.schema.station import Station

        if self.station_id is None:
            return None
        try:
            return Station.from_live(await info.context.loaders.stations.live(str(self.station_id)))
        except NotFound:
            return None

    @strawberry.field(
        description="The site of the station (records carry no location).",
        metadata=priced(Cost(_location_of_error, LOCATION_BY_ID.below)),
    )
    async def location(
        self, info: Ctx
    ) -> Annotated[Location, strawberry.lazy("gateway.schema.location")] | None:
        from gateway.schema.location import Location

        if self.station_id is None:
            return None
        try:
            uid = await info.context.loaders.stations.location_of(str(self.station_id))
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

    @staticmethod
    def filters_rows(given: object) -> bool:
        """Whether a filter argument (as written in a document) has a condition the gateway
        applies itself, so that a page may read several upstream pages."""
        if not isinstance(given, Mapping):
            return False
        return any(given.get(name) not in (None, False, []) for name in GATEWAY_CONDITIONS)

    def query(
        self, *, within: LocationUids = None, station_id: str | None = None
    ) -> HardwareErrorQuery:
        """The checked query; a parent narrows it to its location and station."""
        uids = within if within is not None else location_uids(self.location_ids)
        return HardwareErrorQuery.of(
            uids,
            station_ids=[str(sid) for sid in self.station_ids or ()],
            severities=self.severities,
            active_only=self.active_only,
            within_station=station_id,
        )


HARDWARE_ERRORS: Paged[HardwareErrorQuery, HardwareErrorRow, HardwareErrorConnection] = Paged(
    HardwareErrorConnection,
    "hardwareErrors",
    lambda loaders, query, start, first: loaders.hardware_errors.page(query, start, first),
    HardwareError.from_row,
)
