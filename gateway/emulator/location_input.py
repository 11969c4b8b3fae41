"""Checking create and update bodies of locations, as a careful real API would.

Field names are the contract's (PostedCeLocation); the result maps them onto Location's
attributes. A present null clears a field; unknown fields are refused, so a client's
misspelt field fails loudly instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from .params import QueryError, parse_instant
from .records import Label, PositionEstimate

MAX_POSTAL_CODE = 10


class BodyError(ValueError):
    """Raised for a request body that is not acceptable; the endpoint answers 400."""


def decode(body: bytes) -> object:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BodyError("Request body must be JSON") from exc


def parse_create(body: object) -> tuple[dict[str, Any], str | None]:
    """The location fields and the optional `stationId` of a POST /locations body."""
    envelope = _envelope(body, ("location", "stationId"))
    station_id = envelope.get("stationId")
    if station_id is not None and (not isinstance(station_id, str) or not station_id):
        raise BodyError("'stationId' must be a non-empty string")
    return _fields(envelope["location"], uid=None), station_id


def parse_update(body: object, uid: str) -> dict[str, Any]:
    """The changed location fields of a PATCH /locations/{locationUid} body."""
    return _fields(_envelope(body, ("location",))["location"], uid=uid)


def _envelope(body: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BodyError("Request body must be a JSON object")
    for key in body:
        if key not in allowed:
            raise BodyError(f"Unknown field '{key}'")
    if not isinstance(body.get("location"), dict):
        raise BodyError("'location' is required and must be an object")
    return body


def _fields(raw: dict[str, Any], uid: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "id" and uid is not None:
            if value is not None and value != uid:
                raise BodyError("'location.id' differs from the locationUid in the path")
            continue
        entry = _FIELDS.get(key)
        if entry is None:
            raise BodyError(f"Unknown field 'location.{key}'")
        attribute, parse = entry
        fields[attribute] = parse(f"location.{key}", value)
    return fields


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(name: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BodyError(f"'{name}' must be a number or null")
    return float(value)


def _text(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BodyError(f"'{name}' must be a string or null")


def _postal_code(name: str, value: object) -> str | None:
    text = _text(name, value)
    if text is not None and len(text) > MAX_POSTAL_CODE:
        raise BodyError(f"'{name}' must be at most {MAX_POSTAL_CODE} characters")
    return text


def _country_code(name: str, value: object) -> str | None:
    text = _text(name, value)
    if text is not None and not (len(text) == 2 and text.isascii() and text.isalpha()):
        raise BodyError(f"'{name}' must be a two-letter ISO 3166-1 code")
    return text


def _coordinate(limit: float) -> Callable[[str, object], float | None]:
    def parse(name: str, value: object) -> float | None:
        number = _number(name, value)
        if number is not None and not -limit <= number <= limit:
            raise BodyError(f"'{name}' must be between {-limit:g} and {limit:g}")
        return number

    return parse


_latitude = _coordinate(90)
_longitude = _coordinate(180)


def _bounds(name: str, value: object) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if value is None:
        return None
    message = f"'{name}' must be two [longitude, latitude] pairs or null"
    if not isinstance(value, list) or len(value) != 2:
        raise BodyError(message)
    pairs = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2 or not all(map(_is_number, pair)):
            raise BodyError(message)
        lon = _longitude(name, pair[0])
        lat = _latitude(name, pair[1])
        assert lon is not None and lat is not None
        pairs.append((lon, lat))
    return pairs[0], pairs[1]


def _geo(name: str, value: object) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise BodyError(f"'{name}' must be an array")
    return tuple(value)


def _labels(name: str, value: object) -> tuple[Label, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise BodyError(f"'{name}' must be an array or null")
    labels = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise BodyError(f"every item of '{name}' must be an object with a string 'value'")
        if set(item) - {"value", "tenantIds"}:
            raise BodyError(f"items of '{name}' take only 'value' and 'tenantIds'")
        tenant_ids = item.get("tenantIds")
        if tenant_ids is not None and not (
            isinstance(tenant_ids, list) and all(isinstance(t, str) for t in tenant_ids)
        ):
            raise BodyError(f"'{name}[].tenantIds' must be an array of strings or null")
        labels.append(Label(item["value"], None if tenant_ids is None else tuple(tenant_ids)))
    return tuple(labels)


def _position(name: str, value: object) -> PositionEstimate | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BodyError(f"'{name}' must be an object or null")
    if set(value) - {"lat", "lng", "confidence", "lastUpdated"}:
        raise BodyError(f"'{name}' takes only lat, lng, confidence and lastUpdated")
    updated = value.get("lastUpdated")
    moment: datetime | None = None
    if updated is not None:
        if not isinstance(updated, str):
            raise BodyError(f"'{name}.lastUpdated' must be an ISO 8601 date-time")
        try:
            moment = parse_instant(updated, f"{name}.lastUpdated")
        except QueryError as exc:
            raise BodyError(str(exc)) from exc
    return PositionEstimate(
        lat=_latitude(f"{name}.lat", value.get("lat")),
        lng=_longitude(f"{name}.lng", value.get("lng")),
        confidence=_number(f"{name}.confidence", value.get("confidence")),
        last_updated=moment,
    )


_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "address": ("address", _text),
    "bounds": ("bounds", _bounds),
    "city": ("city", _text),
    "country": ("country", _text),
    "countryCode": ("country_code", _country_code),
    "geo": ("geo", _geo),
    "labels": ("labels", _labels),
    "lat": ("lat", _latitude),
    "lng": ("lng", _longitude),
    "locationId": ("location_id", _text),
    "name": ("name", _text),
    "positionEstimate": ("position_estimate", _position),
    "postalCode": ("postal_code", _postal_code),
    "roamingPoolId": ("roaming_pool_id", _text),
    "state": ("state", _text),
}
