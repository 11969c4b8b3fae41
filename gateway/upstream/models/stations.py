"""Live station state from the Charging Stations API (`GET /stations`)."""

from __future__ import annotations

import msgspec

from gateway.upstream.models._base import Instant, Record, Timestamped
from gateway.upstream.models.enums import (
    EvseStatus,
    EvseType,
    OnlineStatus,
    StationStatus,
    TxStatus,
)
from gateway.upstream.models.locations import Label


class ConnectorTransaction(Timestamped, frozen=True, kw_only=True):
    """The latest transaction on a connector, as the Stations API embeds it.

    The upstream's `authorizationToken` (the driver's RFID or app identifier) is not
    modelled: it identifies a person and nothing in the gateway needs it yet.
    """

    tx_id: str | None = None
    connector_id: str | None = None
    status: TxStatus | None = None
    start_time: Instant | None = None
    end_time: Instant | None = None
    update_time: Instant | None = None
    charged_energy_kwh: float | None = None
    power_kw: float | None = None
    soc: float | None = None
    power_limitation: str | None = None
    """What caps the power now (Charger, Grid, Queue, Shared, Vehicle); an open string."""


class ConnectorInfo(Record, frozen=True, kw_only=True):
    """One connector (the gateway's EVSE); `connector_id` is unique only within its station.

    The docs call the embedded transaction `latestTransaction`, a 2024 transcription
    `lastTransaction`. Both decode; `latest_transaction` holds whichever came, and
    `last_transaction` is only the second spelling as received.
    """

    connector_id: str
    name: str | None = None
    status: EvseStatus | None = None
    type: EvseType | None = None
    max_power_kw: float | None = None
    max_power_kw_actual: float | None = None
    latest_transaction: ConnectorTransaction | None = None
    last_transaction: ConnectorTransaction | None = None

    def __post_init__(self) -> None:
        if self.latest_transaction is None and self.last_transaction is not None:
            msgspec.structs.force_setattr(self, "latest_transaction", self.last_transaction)


class StationLocation(Record, frozen=True, kw_only=True):
    """The short location block of a station row."""

    name: str | None = None
    lat: float | None = None
    lng: float | None = None
    address: str | None = None


class StationInfo(Record, frozen=True, kw_only=True):
    """Live view of one station: power, status and its connectors."""

    station_id: str
    name: str | None = None
    status: StationStatus | None = None
    online_status: OnlineStatus | None = None
    max_power_kw: float | None = None
    max_power_a: float | None = None
    current_power_kw: float | None = None
    current_power_a: float | None = None
    ac_dc_power_ratio: float | None = None
    power_group_parent_path: tuple[str, ...] | None = None
    station_capabilities: str | None = None
    labels: tuple[Label, ...] | None = None
    location: StationLocation | None = None
    location_uid: str | None = None
    connectors: tuple[ConnectorInfo, ...] = ()


class StationList(Record, frozen=True, kw_only=True):
    """Answer of `GET /stations`."""

    stations: tuple[StationInfo, ...]
