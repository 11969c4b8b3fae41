"""Decoding upstream JSON into frozen records: tolerant where the contract is loose."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from gateway.upstream import models
from gateway.upstream.models import (
    AccessToken,
    ConnectorInfo,
    CreateLocationRequest,
    EvseStatus,
    EvseType,
    HardwareErrorDefinition,
    HardwareErrorsPage,
    Instant,
    Label,
    LocationInput,
    LocationList,
    LocationRow,
    LocationStationList,
    NetworkStatusPage,
    NetworkTransactionsPage,
    PositionEstimate,
    ProblematicSessionsPage,
    StationList,
    TxStatus,
    UpdateLocationRequest,
    decoder_for,
    encode,
)
from gateway.upstream.models import enums as enum_module

FULL_LOCATION: dict[str, Any] = {
    "id": "loc-1",
    "address": "Kempower street 1",
    "bounds": [[24.9, 60.2], [25.0, 60.1]],
    "city": "Lahti",
    "country": "Finland",
    "countryCode": "FI",
    "geo": [{"type": "Feature", "properties": {"satellite": 2}}, [1, 2]],
    "labels": [{"value": "depot"}, {"value": "vip", "tenantIds": ["t-a"]}],
    "lat": 60.98,
    "lng": 25.66,
    "locationId": "CUST-7",
    "name": "Depot North",
    "positionEstimate": {
        "confidence": 0.9,
        "lastUpdated": "2024-03-01T10:00:00.000Z",
        "lat": 60.98,
        "lng": 25.66,
    },
    "postalCode": "15140",
    "roamingPoolId": "pool-1",
    "state": "active",
    "tenantIdCPO": "t-a",
    "tenantIdEMSP": "t-e",
    "tenantIdMaintenance": "t-m",
    "tenantIds": ["t-a", "t-e", "t-m"],
    "operator": {"name": "ignored: no longer in the contract"},
}


def decode(type_: type[Any], body: Any) -> Any:
    return decoder_for(type_).decode(json.dumps(body).encode())


def test_location_row_decodes_every_field_with_wire_names() -> None:
    row = decode(LocationList, {"locations": [FULL_LOCATION]}).locations[0]
    assert row.id == "loc-1"
    assert (row.country_code, row.location_id, row.postal_code) == ("FI", "CUST-7", "15140")
    assert row.roaming_pool_id == "pool-1"
    assert (row.tenant_id_cpo, row.tenant_id_emsp, row.tenant_id_maintenance) == (
        "t-a",
        "t-e",
        "t-m",
    )
    assert row.tenant_ids == ("t-a", "t-e", "t-m")
    assert row.bounds == ((24.9, 60.2), (25.0, 60.1))
    assert row.labels == (Label(value="depot"), Label(value="vip", tenant_ids=("t-a",)))
    assert row.position_estimate == PositionEstimate(
        confidence=0.9,
        last_updated=Instant.of(datetime(2024, 3, 1, 10, tzinfo=UTC)),
        lat=60.98,
        lng=25.66,
    )


def test_geo_items_are_kept_as_raw_json() -> None:
    row = decode(LocationRow, FULL_LOCATION)
    assert row.geo is not None
    assert [msgspec.json.decode(item) for item in row.geo] == FULL_LOCATION["geo"]


def test_a_censored_row_needs_only_its_id_and_reads_null_as_absent() -> None:
    row = decode(LocationRow, {"id": "loc-2", "name": None, "labels": None, "tenantIds": None})
    assert row == LocationRow(id="loc-2")
    assert row.name is None and row.labels is None and row.position_estimate is None


def test_a_row_without_its_key_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="id"):
        decode(LocationRow, {"name": "no id"})


def test_records_are_frozen_and_use_tuples() -> None:
    row = decode(LocationRow, FULL_LOCATION)
    with pytest.raises(AttributeError):
        row.name = "changed"
    assert isinstance(row.tenant_ids, tuple) and isinstance(row.labels, tuple)


def test_unknown_enum_value_becomes_unknown_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    novel = f"Hyperloop-{uuid.uuid4().hex[:6]}"
    body = {
        "locations": [
            {
                "id": "loc",
                "stations": [
                    {
                        "stationId": "st",
                        "evses": [
                            {"evseId": "1", "evseType": novel, "status": "Charging"},
                            {"evseId": "2", "evseType": novel, "status": "Unknown"},
                        ],
                    }
                ],
            }
        ]
    }
    with caplog.at_level(logging.WARNING, logger="gateway.upstream"):
        page = decode(NetworkStatusPage, body)
    evses = page.locations[0].stations[0].evses
    assert [e.evse_type for e in evses] == [EvseType.UNKNOWN, EvseType.UNKNOWN]
    # The upstream's own "Unknown" is the UNKNOWN member, not a novelty.
    assert [e.status for e in evses] == [EvseStatus.CHARGING, EvseStatus.UNKNOWN]
    logged = [r for r in caplog.records if novel in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert "EvseType" in logged[0].getMessage()


@pytest.mark.parametrize(
    "enum_type",
    [
        getattr(enum_module, name)
        for name in (
            "Access",
            "ApplicationType",
            "Facility",
            "ParkingType",
            "StationOperationalStatus",
            "EvseType",
            "EvseStatus",
            "TxStatus",
            "TechnicalFailClassification",
            "OnlineStatus",
            "StationStatus",
        )
    ],
)
def test_every_enum_is_open(enum_type: Any) -> None:
    assert enum_type(f"novel-{uuid.uuid4().hex[:6]}") is enum_type.UNKNOWN
    assert msgspec.json.decode(b'"novel-value-x"', type=enum_type) is enum_type.UNKNOWN
    first = next(iter(enum_type))
    assert msgspec.json.decode(json.dumps(first.value).encode(), type=enum_type) is first


def test_wire_spellings_of_mixed_case_enums() -> None:
    assert EvseType("CHAdeMO") is EvseType.CHADEMO
    assert EvseType("oppcharge") is EvseType.OPPCHARGE
    assert TxStatus("AuthorizedNotPluggedIn") is TxStatus.AUTHORIZED_NOT_PLUGGED_IN
    assert models.ApplicationType("RESIDENTAL") is models.ApplicationType.RESIDENTAL


def transactions_body(*start_times: Any) -> dict[str, Any]:
    return {
        "transactions": [
            {"txId": f"tx-{i}", "startTime": value, "status": "Ended"}
            for i, value in enumerate(start_times)
        ],
        "paginationToken": None,
    }


def test_a_malformed_timestamp_is_none_and_does_not_fail_the_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    garbage = f"yesterday-{uuid.uuid4().hex[:6]}"
    with caplog.at_level(logging.WARNING, logger="gateway.upstream"):
        page = decode(
            NetworkTransactionsPage,
            transactions_body("2024-05-01T12:00:00.000Z", garbage, 1714564800, None),
        )
    times = [tx.start_time for tx in page.transactions]
    assert times[0] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert times[1:] == [None, None, None]
    assert [tx.tx_id for tx in page.transactions] == ["tx-0", "tx-1", "tx-2", "tx-3"]
    assert any(garbage in r.getMessage() for r in caplog.records)


def test_timestamps_are_aware_datetimes() -> None:
    page = decode(
        NetworkTransactionsPage,
        transactions_body(
            "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00", "1970-01-01T00:00:00Z"
        ),
    )
    offset, naive, epoch = (tx.start_time for tx in page.transactions)
    assert isinstance(offset, datetime) and offset.utcoffset() == timedelta(hours=2)
    assert naive == datetime(2024, 5, 1, 12, tzinfo=UTC)  # no offset: read as UTC
    # A real epoch instant is not mistaken for the "malformed" marker.
    assert epoch == datetime(1970, 1, 1, tzinfo=UTC)


def test_every_record_with_time_fields_cleans_malformed_values() -> None:
    for name in models.__all__:
        record = getattr(models, name)
        if not (isinstance(record, type) and issubclass(record, msgspec.Struct)):
            continue
        info = msgspec.inspect.type_info(record)
        if not isinstance(info, msgspec.inspect.StructType):
            continue
        timed = [
            field.name
            for field in info.fields
            if any(
                isinstance(t, msgspec.inspect.CustomType)
                and t.cls in (models.Instant, models.CalendarDate)
                for t in getattr(field.type, "types", (field.type,))
            )
        ]
        if timed:
            assert issubclass(record, models.Timestamped), (name, timed)


def test_access_token_expiry_is_strict() -> None:
    token = decode(AccessToken, {"token": "jwt", "validUntil": "2021-03-29T14:35:01.000Z"})
    assert token.valid_until == datetime(2021, 3, 29, 14, 35, 1, tzinfo=UTC)
    with pytest.raises(msgspec.ValidationError):
        decode(AccessToken, {"token": "jwt", "validUntil": "soon"})


def test_connector_accepts_both_spellings_of_its_transaction() -> None:
    tx = {"txId": "tx-1", "status": "Charging", "startTime": "2024-01-01T00:00:00Z"}
    latest = decode(ConnectorInfo, {"connectorId": "1", "latestTransaction": tx})
    last = decode(ConnectorInfo, {"connectorId": "2", "lastTransaction": tx})
    assert latest.latest_transaction is not None and last.latest_transaction is not None
    assert latest.latest_transaction.tx_id == last.latest_transaction.tx_id == "tx-1"
    assert last.latest_transaction.status is TxStatus.CHARGING
    both = decode(
        ConnectorInfo,
        {"connectorId": "3", "latestTransaction": tx, "lastTransaction": {"txId": "older"}},
    )
    assert both.latest_transaction is not None and both.latest_transaction.tx_id == "tx-1"


def test_station_info_decodes_the_documented_example() -> None:
    body = {
        "stations": [
            {
                "stationId": "charger1",
                "name": "Charger 1",
                "status": "Operative",
                "onlineStatus": "Online",
                "maxPowerKw": 600,
                "acDcPowerRatio": 0.87,
                "powerGroupParentPath": ["root", "g1"],
                "location": {"name": "Depot", "lat": 1.5, "lng": 2.5, "address": "x"},
                "locationUid": "loc-1",
                "connectors": [
                    {"connectorId": "charger1_connector2", "status": "Unknown", "type": "CCS"}
                ],
            }
        ]
    }
    station = decode(StationList, body).stations[0]
    assert station.status is models.StationStatus.OPERATIVE
    assert station.online_status is models.OnlineStatus.ONLINE
    assert station.max_power_kw == 600.0 and station.power_group_parent_path == ("root", "g1")
    assert station.location is not None and station.location.lat == 1.5
    assert station.connectors[0].type is EvseType.CCS
    assert station.connectors[0].latest_transaction is None


def test_hardware_error_definition_never_carries_internal_notes() -> None:
    body = {
        "errors": [
            {
                "stationId": "st-1",
                "timestamp": "2024-02-02T02:02:02Z",
                "alert": {"id": "a-1", "errorCode": "E42", "timestamp": "2024-02-02T02:00:00Z"},
                "error": {
                    "code": "E42",
                    "severity": "critical",
                    "state": "draft",
                    "internalNotes": "SECRET vendor note",
                    "alias": ["E042"],
                },
            }
        ],
        "paginationToken": "next",
    }
    page = decode(HardwareErrorsPage, body)
    definition = page.errors[0].error
    assert definition is not None
    assert (definition.severity, definition.state, definition.alias) == (
        "critical",
        "draft",
        ("E042",),
    )
    assert "internal_notes" not in HardwareErrorDefinition.__struct_fields__
    assert "SECRET" not in repr(page) and b"SECRET" not in encode(page)
    assert page.pagination_token == "next"


def test_station_inventory_row() -> None:
    body = {
        "stations": [
            {
                "stationId": "st-1",
                "name": "Unit 1",
                "tenantIdCPO": "t-a",
                "tenantIdEMSP": "t-a",
                "tenantIds": ["t-a"],
                "classification": {
                    "access": "PRIVATE",
                    "applicationTypes": ["DEPOT", "SPACEPORT"],
                    "facilities": ["AIRPORT"],
                    "parkingType": "ALONG_MOTORWAY",
                },
                "manufacturingInfo": {"deliveryDate": "2023-10-12", "extraOrders": []},
                "operationalStatus": "IN_OPERATION",
                "location": {"id": "loc-1", "name": "Depot"},
            }
        ]
    }
    station = decode(LocationStationList, body).stations[0]
    assert station.classification is not None
    assert station.classification.application_types == (
        models.ApplicationType.DEPOT,
        models.ApplicationType.UNKNOWN,
    )
    assert station.classification.access is models.Access.PRIVATE
    assert station.manufacturing_info is not None
    assert station.manufacturing_info.delivery_date == date(2023, 10, 12)
    assert station.operational_status is models.StationOperationalStatus.IN_OPERATION


def test_problematic_session_nests_transaction_and_vehicle() -> None:
    body = {
        "sessions": [
            {
                "alert": "Charging stopped",
                "status": "Alarm",
                "locationUid": "loc-1",
                "evIdentify": {"displayName": "Van", "seqNo": 3, "clusteringTimestamp": "bad"},
                "transaction": {"txId": "tx-9", "evseId": "2", "soc": 41.5},
            }
        ],
        "paginationToken": "",
    }
    page = decode(ProblematicSessionsPage, body)
    session = page.sessions[0]
    assert session.status is TxStatus.ALARM
    assert session.ev_identify is not None and session.ev_identify.seq_no == 3
    assert session.ev_identify.clustering_timestamp is None
    assert session.transaction is not None and session.transaction.tx_id == "tx-9"


def test_location_input_leaves_unset_fields_out_and_sends_null_to_clear() -> None:
    patch = LocationInput(name="New name", postal_code=None)
    assert json.loads(encode(UpdateLocationRequest(location=patch))) == {
        "location": {"name": "New name", "postalCode": None}
    }
    assert json.loads(encode(UpdateLocationRequest(location=LocationInput()))) == {"location": {}}


def test_create_body_carries_the_station_only_when_given() -> None:
    location = LocationInput(
        name="Depot",
        lat=60.1,
        lng=24.9,
        labels=(Label(value="x"),),
        geo=(msgspec.Raw(b'{"type":"Point"}'),),
        position_estimate=PositionEstimate(
            last_updated=Instant.of(datetime(2024, 1, 1, 14, tzinfo=timezone(timedelta(hours=2))))
        ),
    )
    body = json.loads(encode(CreateLocationRequest(location=location)))
    assert body == {
        "location": {
            "name": "Depot",
            "lat": 60.1,
            "lng": 24.9,
            "labels": [{"value": "x"}],
            "geo": [{"type": "Point"}],
            "positionEstimate": {"lastUpdated": "2024-01-01T12:00:00.000Z"},
        }
    }
    with_station = json.loads(encode(CreateLocationRequest(location=location, station_id="st")))
    assert with_station["stationId"] == "st"


def test_instant_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone"):
        Instant.of(datetime(2024, 1, 1))
