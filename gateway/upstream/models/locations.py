"""Locations, their request bodies and the write answers; plus the auth token.

Rows are "censored" per tenant: the upstream leaves out what the caller may not see, so
every field but the key defaults to `None`, and `null` reads as absent.

`geo` (additional GeoJSON features, "arbitrary JSON" in the contract) is kept as a tuple
of `msgspec.Raw`: the exact bytes of each item, not parsed and not interpreted, so it
costs nothing to decode, can be handed on as a JSON scalar (`msgspec.json.decode(raw)`),
and round-trips unchanged through an update.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from gateway.upstream.models._base import Instant, Record, Timestamped


class AccessToken(Record, frozen=True, kw_only=True):
    """Answer of the token exchange: a JWT and when it expires.

    `valid_until` is decoded strictly (a plain aware `datetime`): a token whose expiry
    cannot be read is useless, so a malformed value fails the exchange.
    """

    token: str
    valid_until: datetime


class Label(Record, frozen=True, kw_only=True):
    """A free-text tag on a row; `tenant_ids` None means everyone who sees the row."""

    value: str
    tenant_ids: tuple[str, ...] | None = None


class PositionEstimate(Timestamped, frozen=True, kw_only=True):
    """The upstream's own estimate of a site's position, with a confidence score."""

    confidence: float | None = None
    last_updated: Instant | None = None
    lat: float | None = None
    lng: float | None = None


LonLat = tuple[float, float]
"""A GeoJSON position: longitude, then latitude."""


class Tenancy(Record, frozen=True, kw_only=True):
    """Ownership carried by every row (`CensoredRowWithTenancy`)."""

    tenant_id_cpo: str | None = msgspec.field(default=None, name="tenantIdCPO")
    tenant_id_emsp: str | None = msgspec.field(default=None, name="tenantIdEMSP")
    tenant_id_maintenance: str | None = None
    tenant_ids: tuple[str, ...] | None = None


class LocationRow(Tenancy, frozen=True, kw_only=True):
    """A stored location (`CensoredRowWithTenancy<LocationRow>`); `id` is the locationUid."""

    id: str
    address: str | None = None
    bounds: tuple[LonLat, ...] | None = None
    """North-west corner, then south-east corner."""
    city: str | None = None
    country: str | None = None
    country_code: str | None = None
    geo: tuple[msgspec.Raw, ...] | None = None
    labels: tuple[Label, ...] | None = None
    lat: float | None = None
    lng: float | None = None
    location_id: str | None = None
    """The customer's own reference, not the ChargEye id."""
    name: str | None = None
    position_estimate: PositionEstimate | None = None
    postal_code: str | None = None
    roaming_pool_id: str | None = None
    state: str | None = None


class LocationList(Record, frozen=True, kw_only=True):
    """Answer of `GET /locations`."""

    locations: tuple[LocationRow, ...]


class LocationEnvelope(Record, frozen=True, kw_only=True):
    """Answer of the get-one call.

    `location` is required by the contract, but the contract also warns that an invisible
    row may come back as an empty object; the client reads a missing row as not found.
    """

    location: LocationRow | None = None


class LocationInput(Record, frozen=True, kw_only=True):
    """The descriptive fields of a location, for create and partial update.

    Every field defaults to `UNSET` and is then left out of the body. `None` is sent as
    `null`, which in an update asks the upstream to clear the field (merge-patch style,
    as the contract assumes).
    """

    address: str | UnsetType | None = UNSET
    bounds: tuple[LonLat, ...] | UnsetType | None = UNSET
    city: str | UnsetType | None = UNSET
    country: str | UnsetType | None = UNSET
    country_code: str | UnsetType | None = UNSET
    geo: tuple[msgspec.Raw, ...] | UnsetType = UNSET
    labels: tuple[Label, ...] | UnsetType | None = UNSET
    lat: float | UnsetType | None = UNSET
    lng: float | UnsetType | None = UNSET
    location_id: str | UnsetType | None = UNSET
    name: str | UnsetType | None = UNSET
    position_estimate: PositionEstimate | UnsetType | None = UNSET
    postal_code: str | UnsetType | None = UNSET
    roaming_pool_id: str | UnsetType | None = UNSET
    state: str | UnsetType | None = UNSET


class CreateLocationRequest(Record, frozen=True, kw_only=True):
    """Body of `POST /locations`; `station_id` lends the new location that station's tenancy."""

    location: LocationInput
    station_id: str | UnsetType = UNSET


class UpdateLocationRequest(Record, frozen=True, kw_only=True):
    """Body of the partial update. The row's `id` is never sent: the path names the row."""

    location: LocationInput


class CreateLocationResponse(Record, frozen=True, kw_only=True):
    """Answer of create; success needs both `success: true` and an `id`."""

    id: str | None = None
    success: bool | None = None


class SuccessResponse(Record, frozen=True, kw_only=True):
    """Answer of the update; anything but `success: true` is a failure."""

    success: bool | None = None
