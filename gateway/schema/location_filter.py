"""`LocationFilter`: applied by the gateway, since GET /locations has no filters."""

from __future__ import annotations

import msgspec
import strawberry

from gateway.loaders.queries import checked_ids, checked_text
from gateway.upstream.models import LocationRow


@strawberry.input(description="Every given condition must hold.")
class LocationFilter:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these locations."
    )
    country_code: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2, case-insensitive."
    )
    city: str | None = strawberry.field(default=None, description="Exact city, case-insensitive.")
    search: str | None = strawberry.field(
        default=None, description="Substring of name, address, city or locationId."
    )

    @staticmethod
    def checked(filter: LocationFilter | None) -> LocationFilter | None:
        """The filter, after its checks: ids that could exist, strings of sane length."""
        if filter is None:
            return None
        if filter.ids is not None:
            checked_ids(filter.ids, field="ids")
        checked_text(filter.country_code, field="countryCode")
        checked_text(filter.city, field="city")
        checked_text(filter.search, field="search")
        return filter

    def matches(self, row: LocationRow) -> bool:
        if self.ids is not None and row.id not in self.ids:
            return False
        if self.country_code and (row.country_code or "").upper() != self.country_code.upper():
            return False
        if self.city and (row.city or "").casefold() != self.city.casefold():
            return False
        if self.search:
            needle = self.search.casefold()
            haystack = (row.name, row.address, row.city, row.location_id)
            return any(needle in (text or "").casefold() for text in haystack)
        return True

    @staticmethod
    def key(filter: LocationFilter | None) -> str:
        """A canonical form that binds cursors to this filter."""
        if filter is None:
            return ""
        return msgspec.json.encode(
            [sorted(filter.ids or []), filter.country_code, filter.city, filter.search]
        ).decode()
