"""The network-wide views of the Locations API: status tree, power, errors, sessions, transactions.

The contract marks almost nothing here as required; keys are required where a row is
useless without them (it could not be joined or cached).
"""

from __future__ import annotations

import msgspec

from gateway.upstream import contract
from gateway.upstream.models._base import Instant, Record, Timestamped
from gateway.upstream.models.enums import (
    Access,
    EvseStatus,
    EvseType,
    TechnicalFailClassification,
    TxStatus,
)


def _pagination_token() -> str | None:
    return msgspec.field(default=None, name=contract.RESPONSE_PAGINATION_TOKEN)


# --- network status ---------------------------------------------------------------------


class NetworkEvseStatus(Record, frozen=True, kw_only=True):
    """One EVSE in the status tree; global key (station_id, evse_id)."""

    evse_id: str
    evse_name: str | None = None
    evse_type: EvseType | None = None
    max_power_kw: float | None = None
    max_power_kw_without_dynamic_limit: float | None = None
    station_id: str | None = None
    status: EvseStatus | None = None
    tx_id: str | None = None
    tx_status: TxStatus | None = None


class NetworkStationStatus(Record, frozen=True, kw_only=True):
    """One station in the status tree, with its EVSEs."""

    station_id: str
    access: Access | None = None
    evses: tuple[NetworkEvseStatus, ...] = ()
    location_uid: str | None = None
    name: str | None = None
    power_module_power_sum_kw: float | None = None


class NetworkLocationStatus(Record, frozen=True, kw_only=True):
    """One location in the status tree; `id` is the locationUid."""

    id: str
    address: str | None = None
    city: str | None = None
    lat: float | None = None
    lng: float | None = None
    name: str | None = None
    position_confidence: float | None = None
    stations: tuple[NetworkStationStatus, ...] = ()


class NetworkStatusPage(Record, frozen=True, kw_only=True):
    """One page of the network status call."""

    locations: tuple[NetworkLocationStatus, ...] = ()
    pagination_token: str | None = _pagination_token()


# --- currently used power ---------------------------------------------------------------


class LocationPower(Record, frozen=True, kw_only=True):
    """Output power in use at one location right now."""

    location_uid: str
    current_power_kw: float | None = None
    session_count: int | None = None


class CurrentlyUsedPower(Record, frozen=True, kw_only=True):
    """Answer of the currently-used-power call (not paginated)."""

    locations: tuple[LocationPower, ...] = ()


# --- hardware errors --------------------------------------------------------------------


class HardwareErrorAlert(Timestamped, frozen=True, kw_only=True):
    """One occurrence of a hardware error; `end_time` None while it is active (presumably)."""

    id: str | None = None
    end_time: Instant | None = None
    error_code: str | None = None
    message: str | None = None
    timestamp: Instant | None = None
    title: str | None = None
    type: str | None = None


class HardwareErrorDefinition(Timestamped, frozen=True, kw_only=True):
    """Catalogue entry for an error code.

    The upstream's `internalNotes` is deliberately not modelled: it is vendor-internal text
    and must never reach GraphQL clients, so it is dropped at decode time.
    `severity` and `state` are open strings (no value set is known).
    """

    code: str | None = None
    alias: tuple[str, ...] | None = None
    description: str | None = None
    documentation: str | None = None
    possible_cause: str | None = None
    potential_impact: str | None = None
    potential_solution: str | None = None
    self_help_steps: str | None = None
    severity: str | None = None
    state: str | None = None
    vendor: str | None = None
    version_created_timestamp: Instant | None = None
    version_modified_timestamp: Instant | None = None


class HardwareError(Timestamped, frozen=True, kw_only=True):
    """One hardware error record: the station, the occurrence and its definition."""

    station_id: str | None = None
    timestamp: Instant | None = None
    alert: HardwareErrorAlert | None = None
    error: HardwareErrorDefinition | None = None


class HardwareErrorsPage(Record, frozen=True, kw_only=True):
    """One page of the network hardware errors call."""

    errors: tuple[HardwareError, ...] = ()
    pagination_token: str | None = _pagination_token()


# --- problematic sessions and network transactions ----------------------------------------


class EvIdentify(Timestamped, frozen=True, kw_only=True):
    """The upstream's identification of the vehicle of a session."""

    clustering_timestamp: Instant | None = None
    display_name: str | None = None
    seq_no: int | None = None


class SessionTransaction(Record, frozen=True, kw_only=True):
    """Transaction summary nested in a problematic session (no stationId upstream)."""

    tx_id: str | None = None
    evse_id: str | None = None
    power_kw: float | None = None
    soc: float | None = None
    soc_start: float | None = None


class NetworkStatusSession(Timestamped, frozen=True, kw_only=True):
    """One problematic session. `alert` is a plain text here."""

    alert: str | None = None
    end_time: Instant | None = None
    ev_id: str | None = None
    ev_identify: EvIdentify | None = None
    ev_model: str | None = None
    ev_name: str | None = None
    location_uid: str | None = None
    schedule_id: str | None = None
    start_time: Instant | None = None
    status: TxStatus | None = None
    transaction: SessionTransaction | None = None


class ProblematicSessionsPage(Record, frozen=True, kw_only=True):
    """One page of the problematic sessions call."""

    sessions: tuple[NetworkStatusSession, ...]
    pagination_token: str | None = _pagination_token()


class NetworkStatusTransaction(Timestamped, frozen=True, kw_only=True):
    """One transaction of the network transactions view (no stationId upstream)."""

    tx_id: str
    end_time: Instant | None = None
    ev_id: str | None = None
    ev_identify: EvIdentify | None = None
    evse_id: str | None = None
    location_uid: str | None = None
    power_kw: float | None = None
    soc: float | None = None
    soc_start: float | None = None
    start_time: Instant | None = None
    status: TxStatus | None = None
    technical_fail_classification: TechnicalFailClassification | None = None


class NetworkTransactionsPage(Record, frozen=True, kw_only=True):
    """One page of the network transactions call."""

    transactions: tuple[NetworkStatusTransaction, ...]
    pagination_token: str | None = _pagination_token()
