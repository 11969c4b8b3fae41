"""Location writes: checked before any upstream call, sent once, never retried."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.countries import ISO_3166_ALPHA_2
from gateway.errors import BadUserInput
from gateway.schema.location import Location
from gateway.upstream.models import Label as LabelRow
from gateway.upstream.models import LocationInput

Ctx = Info[Context, None]
MAX_POSTAL_CODE = 10  # documented upstream limit
MAX_TEXT = 500  # ours: no upstream limit is documented, but nothing sane is longer
MAX_LABELS = 50  # ours, for the same reason


@strawberry.input(description="A WGS84 point.")
class CoordinatesInput:
    lat: float
    lng: float


@strawberry.input(description="Bounding box: the north-west corner and the south-east corner.")
class BoundsInput:
    north_west: CoordinatesInput
    south_east: CoordinatesInput


@strawberry.input(description="A new location. Only the fields given are stored.")
class CreateLocationInput:
    name: str | None = None
    location_id: str | None = strawberry.field(
        default=None, description="Your own reference for the site."
    )
    address: str | None = None
    postal_code: str | None = strawberry.field(default=None, description="At most 10 characters.")
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_code: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    lat: float | None = strawberry.field(default=None, description="-90 to 90.")
    lng: float | None = strawberry.field(default=None, description="-180 to 180.")
    bounds: BoundsInput | None = None
    roaming_pool_id: str | None = None
    labels: list[str] | None = None
    station_id: strawberry.ID | None = strawberry.field(
        default=None, description="Copy this station's access rights (tenancy) to the new site."
    )


@strawberry.input(description="Changes to a location: omitted fields stay, null clears a field.")
class UpdateLocationInput:
    name: str | None = strawberry.UNSET
    location_id: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    state: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    country_code: str | None = strawberry.UNSET
    lat: float | None = strawberry.UNSET
    lng: float | None = strawberry.UNSET
    bounds: BoundsInput | None = strawberry.UNSET
    roaming_pool_id: str | None = strawberry.UNSET
    labels: list[str] | None = strawberry.UNSET


@strawberry.type
class CreateLocationPayload:
    id: strawberry.ID = strawberry.field(description="The new location's ChargEye id.")

    @strawberry.field(description="The new location as the upstream now returns it.")
    async def location(self, info: Ctx) -> Location | None:
        return await Location.load(info, str(self.id))


@strawberry.type
class UpdateLocationPayload:
    id: strawberry.ID

    @strawberry.field(description="The location as the upstream now returns it.")
    async def location(self, info: Ctx) -> Location | None:
        return await Location.load(info, str(self.id))


@strawberry.type
class Mutation:
    """Payloads are nullable: when a later mutation of the same document fails, the
    result of an earlier one (a new location's id) still reaches the client."""

    @strawberry.mutation(description="Create a location. Sent upstream once, never retried.")
    async def create_location(
        self, info: Ctx, input: CreateLocationInput
    ) -> CreateLocationPayload | None:
        fields = _checked(input, creating=True)
        station_id = str(input.station_id) if input.station_id is not None else None
        new_id = await info.context.loaders.writer.create(
            LocationInput(**fields), copy_access_of=station_id
        )
        return CreateLocationPayload(id=strawberry.ID(new_id))

    @strawberry.mutation(description="Change a location. Sent upstream once, never retried.")
    async def update_location(
        self, info: Ctx, id: strawberry.ID, input: UpdateLocationInput
    ) -> UpdateLocationPayload | None:
        if not str(id).strip():
            raise BadUserInput("`id` must not be empty.", field="id")
        fields = _checked(input, creating=False)
        if not fields:
            raise BadUserInput("`input` changes nothing: give at least one field.", field="input")
        await info.context.loaders.writer.update(str(id), LocationInput(**fields))
        return UpdateLocationPayload(id=id)


def _checked(input: CreateLocationInput | UpdateLocationInput, *, creating: bool) -> dict[str, Any]:
    """The upstream fields of `input`, after every check; absent fields are left out."""
    given = {
        name: value
        for name, value in vars(input).items()
        if value is not strawberry.UNSET
        and name != "station_id"
        and not (creating and value is None)
    }
    for name in ("name", "location_id", "address", "city", "state", "country", "roaming_pool_id"):
        text = given.get(name)
        if text is not None and len(text) > MAX_TEXT:
            raise BadUserInput(
                f"`{_camel(name)}` is longer than {MAX_TEXT} characters.", field=_camel(name)
            )
    if (code := given.get("country_code")) is not None and code not in ISO_3166_ALPHA_2:
        raise BadUserInput(
            "`countryCode` must be an ISO 3166-1 alpha-2 code in capitals, e.g. FI.",
            field="countryCode",
        )
    if (postal := given.get("postal_code")) is not None and len(postal) > MAX_POSTAL_CODE:
        raise BadUserInput(
            f"`postalCode` is longer than {MAX_POSTAL_CODE} characters.", field="postalCode"
        )
    _check_latitude(given.get("lat"), "lat")
    _check_longitude(given.get("lng"), "lng")
    if (bounds := given.get("bounds")) is not None:
        given["bounds"] = _bounds(bounds)
    if (labels := given.get("labels")) is not None:
        if len(labels) > MAX_LABELS or any(not 0 < len(label) <= MAX_TEXT for label in labels):
            raise BadUserInput(
                f"`labels` takes at most {MAX_LABELS} labels of 1 to {MAX_TEXT} characters.",
                field="labels",
            )
        given["labels"] = tuple(LabelRow(value=label) for label in labels)
    return given


def _bounds(bounds: BoundsInput) -> tuple[tuple[float, float], tuple[float, float]]:
    """GeoJSON positions, longitude first: [north-west, south-east]."""
    nw, se = bounds.north_west, bounds.south_east
    for corner, name in ((nw, "bounds.northWest"), (se, "bounds.southEast")):
        _check_latitude(corner.lat, f"{name}.lat")
        _check_longitude(corner.lng, f"{name}.lng")
    if nw.lat < se.lat:
        raise BadUserInput(
            "`bounds.northWest` must not lie south of `bounds.southEast`.", field="bounds"
        )
    return ((nw.lng, nw.lat), (se.lng, se.lat))


def _check_latitude(value: float | None, field: str) -> None:
    if value is not None and not -90.0 <= value <= 90.0:
        raise BadUserInput(f"`{field}` must be between -90 and 90.", field=field)


def _check_longitude(value: float | None, field: str) -> None:
    if value is not None and not -180.0 <= value <= 180.0:
        raise BadUserInput(f"`{field}` must be between -180 and 180.", field=field)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
