"""The inputs of location writes, and every check they pass before any upstream call.

All problems of one input are reported at once (`BadUserInput.problems`), so a form with
three bad fields learns of all three from one answer.
"""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.countries import ISO_3166_ALPHA_2
from gateway.errors import BadUserInput
from gateway.upstream.models import Label as LabelRow

MAX_POSTAL_CODE = 10  # documented upstream limit
MAX_TEXT = 500  # ours: no upstream limit is documented, but nothing sane is longer
MAX_LABELS = 50  # ours, for the same reason
TEXT_FIELDS = ("name", "location_id", "address", "city", "state", "country", "roaming_pool_id")


@strawberry.input(description="A WGS84 point.")
class CoordinatesInput:
    lat: float = strawberry.field(description="Latitude, degrees, -90 to 90.")
    lng: float = strawberry.field(description="Longitude, degrees, -180 to 180.")


@strawberry.input(description="Bounding box: the north-west corner and the south-east corner.")
class BoundsInput:
    north_west: CoordinatesInput = strawberry.field(
        description="The north-west corner; must not lie south of `southEast`."
    )
    south_east: CoordinatesInput = strawberry.field(description="The south-east corner.")


@strawberry.input(description="A new location. Only the fields given are stored.")
class CreateLocationInput:
    name: str | None = strawberry.field(
        default=None, description="Display name of the site, at most 500 characters."
    )
    location_id: str | None = strawberry.field(
        default=None, description="Your own reference for the site."
    )
    address: str | None = strawberry.field(
        default=None, description="Street address, one line of at most 500 characters."
    )
    postal_code: str | None = strawberry.field(default=None, description="At most 10 characters.")
    city: str | None = strawberry.field(
        default=None, description="City or town, at most 500 characters."
    )
    state: str | None = strawberry.field(
        default=None, description="State, province or region, at most 500 characters."
    )
    country: str | None = strawberry.field(
        default=None, description="Country name, free text of at most 500 characters."
    )
    country_code: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    lat: float | None = strawberry.field(default=None, description="-90 to 90.")
    lng: float | None = strawberry.field(default=None, description="-180 to 180.")
    bounds: BoundsInput | None = strawberry.field(
        default=None, description="Bounding box of the site."
    )
    roaming_pool_id: str | None = strawberry.field(
        default=None, description="Roaming pool to publish the site in."
    )
    labels: list[str] | None = strawberry.field(
        default=None, description="Tags for the site: at most 50, each 1 to 500 characters."
    )
    station_id: strawberry.ID | None = strawberry.field(
        default=None, description="Copy this station's access rights (tenancy) to the new site."
    )


@strawberry.input(description="Changes to a location: omitted fields stay, null clears a field.")
class UpdateLocationInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="New display name, at most 500 characters."
    )
    location_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="New own reference for the site (not its id), at most 500 characters.",
    )
    address: str | None = strawberry.field(
        default=strawberry.UNSET, description="New street address, at most 500 characters."
    )
    postal_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="New postal code, at most 10 characters."
    )
    city: str | None = strawberry.field(
        default=strawberry.UNSET, description="New city or town, at most 500 characters."
    )
    state: str | None = strawberry.field(
        default=strawberry.UNSET, description="New state or region, at most 500 characters."
    )
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="New country name, at most 500 characters."
    )
    country_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="New ISO 3166-1 alpha-2 code, in capitals."
    )
    lat: float | None = strawberry.field(
        default=strawberry.UNSET, description="New latitude of the centre, -90 to 90."
    )
    lng: float | None = strawberry.field(
        default=strawberry.UNSET, description="New longitude of the centre, -180 to 180."
    )
    bounds: BoundsInput | None = strawberry.field(
        default=strawberry.UNSET, description="New bounding box of the site."
    )
    roaming_pool_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="New roaming pool of the site."
    )
    labels: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The site's new tags: at most 50, each 1 to 500 characters.",
    )


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.found.append((field, message))

    def latitude(self, value: float | None, field: str) -> None:
        if value is not None and not -90.0 <= value <= 90.0:
            self.add(field, f"`{field}` must be between -90 and 90.")

    def longitude(self, value: float | None, field: str) -> None:
        if value is not None and not -180.0 <= value <= 180.0:
            self.add(field, f"`{field}` must be between -180 and 180.")


def checked(input: CreateLocationInput | UpdateLocationInput, *, creating: bool) -> dict[str, Any]:
    """The upstream fields of `input`, after every check; absent fields are left out."""
    given = {
        name: value
        for name, value in vars(input).items()
        if value is not strawberry.UNSET
        and name != "station_id"
        and not (creating and value is None)
    }
    problems = _Problems()
    for name in TEXT_FIELDS:
        text = given.get(name)
        if text is not None and len(text) > MAX_TEXT:
            problems.add(_camel(name), f"`{_camel(name)}` is longer than {MAX_TEXT} characters.")
    if (code := given.get("country_code")) is not None and code not in ISO_3166_ALPHA_2:
        problems.add(
            "countryCode", "`countryCode` must be an ISO 3166-1 alpha-2 code in capitals, e.g. FI."
        )
    if (postal := given.get("postal_code")) is not None and len(postal) > MAX_POSTAL_CODE:
        problems.add("postalCode", f"`postalCode` is longer than {MAX_POSTAL_CODE} characters.")
    problems.latitude(given.get("lat"), "lat")
    problems.longitude(given.get("lng"), "lng")
    if (bounds := given.get("bounds")) is not None:
        given["bounds"] = _bounds(bounds, problems)
    if (labels := given.get("labels")) is not None:
        if len(labels) > MAX_LABELS or any(not 0 < len(label) <= MAX_TEXT for label in labels):
            problems.add(
                "labels",
                f"`labels` takes at most {MAX_LABELS} labels of 1 to {MAX_TEXT} characters.",
            )
        given["labels"] = tuple(LabelRow(value=label) for label in labels)
    if problems.found:
        raise BadUserInput.of(problems.found)
    return given


def _bounds(
    bounds: BoundsInput, problems: _Problems
) -> tuple[tuple[float, float], tuple[float, float]]:
    """GeoJSON positions, longitude first: [north-west, south-east]."""
    nw, se = bounds.north_west, bounds.south_east
    for corner, name in ((nw, "bounds.northWest"), (se, "bounds.southEast")):
        problems.latitude(corner.lat, f"{name}.lat")
        problems.longitude(corner.lng, f"{name}.lng")
    if nw.lat < se.lat:
        problems.add("bounds", "`bounds.northWest` must not lie south of `bounds.southEast`.")
    return ((nw.lng, nw.lat), (se.lng, se.lat))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
