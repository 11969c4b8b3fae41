"""Filter inputs of the network lists, turned into the loaders' checked queries."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.errors import BadUserInput
from gateway.loaders.queries import (
    EvseTransactionQuery,
    LocationUids,
    SessionQuery,
    TransactionQuery,
    classifications,
    location_uids,
    time_window,
)
from gateway.schema.enums import TechnicalFailClassification


@strawberry.input(description="Every given condition must hold.")
class SessionFilter:
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these locations (at most 100)."
    )
    started_from: datetime | None = strawberry.field(
        default=None, description="Only sessions that started at or after this instant."
    )
    started_before: datetime | None = strawberry.field(
        default=None, description="Only sessions that started before this instant."
    )

    @staticmethod
    def query(filter: SessionFilter | None, *, within: LocationUids = None) -> SessionQuery:
        """The checked query; `within` (a parent's locations) replaces the filter's ids."""
        filter = filter or SessionFilter()
        uids = within if within is not None else location_uids(filter.location_ids)
        return SessionQuery(uids, *time_window(filter.started_from, filter.started_before))


@strawberry.input(description="Every given condition must hold.")
class TransactionFilter(SessionFilter):
    technical_fail_classifications: list[TechnicalFailClassification] | None = strawberry.field(
        default=None, description="Only sessions with one of these verdicts."
    )

    @staticmethod
    def transactions(
        filter: TransactionFilter | None, *, within: LocationUids = None
    ) -> TransactionQuery:
        filter = filter or TransactionFilter()
        uids = within if within is not None else location_uids(filter.location_ids)
        start, end = time_window(filter.started_from, filter.started_before)
        return TransactionQuery(
            uids, start, end, classifications(filter.technical_fail_classifications)
        )

    @staticmethod
    def of_evse(
        filter: TransactionFilter | None, *, station_id: str, evse_id: str
    ) -> EvseTransactionQuery:
        filter = filter or TransactionFilter()
        if filter.location_ids is not None:
            raise BadUserInput("`locationIds` does not apply to one EVSE.", field="locationIds")
        start, end = time_window(filter.started_from, filter.started_before)
        return EvseTransactionQuery(
            station_id, evse_id, start, end, classifications(filter.technical_fail_classifications)
        )
