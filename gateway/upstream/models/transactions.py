"""The Transactions API's transaction row, and its station-scoped page.

Unlike the Locations API's network views, these rows name their station, so they are
what links a session to its EVSE ((stationId, evseId) is the EVSE's key). Pagination is
DynamoDB-style: the answer's `lastEvaluatedKey` is an object, sent back as the
`exclusiveStartKey` string (JSON-encoded, inferred) until the answer has none.
"""

from __future__ import annotations

import msgspec

from gateway.upstream.models._base import Instant, Record, Timestamped
from gateway.upstream.models.enums import EvseType, TechnicalFailClassification, TxStatus


class TransactionRecord(Timestamped, frozen=True, kw_only=True):
    """One session as the Transactions API models it (the fields a dashboard needs)."""

    tx_id: str
    station_id: str | None = None
    location_uid: str | None = None
    location_id: str | None = None
    evse_id: str | None = None
    evse_name: str | None = None
    evse_type: EvseType | None = None
    evse_max_power_kw: float | None = None
    status: TxStatus | None = None
    technical_fail_classification: TechnicalFailClassification | None = None
    start_time: Instant | None = None
    charging_start_time: Instant | None = None
    charging_end_time: Instant | None = None
    end_time: Instant | None = None
    update_time: Instant | None = None
    charged_energy_kwh: float | None = None
    power_kw: float | None = None
    avg_power_kw: float | None = None
    max_power_kw: float | None = None
    soc: float | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    charging_duration_ms: float | None = None
    session_duration_ms: float | None = None
    power_limitation: str | None = None
    sequence_number: int | None = None


class TransactionEnvelope(Record, frozen=True, kw_only=True):
    """Answer of the get-one call (wrapper key inferred, as ChargEye wraps every object)."""

    transaction: TransactionRecord | None = None


class TransactionsSummary(Record, frozen=True, kw_only=True):
    charged_energy_kwh: float | None = None
    charging_time_ms: float | None = None
    count: int | None = None
    occupied_time_ms: float | None = None


class StationTransactionsPage(Record, frozen=True, kw_only=True):
    """Answer of GET /chargingStations/{stationId}/transactions."""

    transactions: tuple[TransactionRecord, ...]
    summary: TransactionsSummary | None = None
    # msgspec reads `Raw | None` as "null only": take any JSON, with `null` for absent.
    last_evaluated_key: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))
