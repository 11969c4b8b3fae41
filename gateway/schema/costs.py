"""What a field costs upstream, declared on the field itself.

Every field with a resolver carries a `Cost` in its metadata (`priced(...)`); the schema
build refuses a resolver without one, so a new field cannot be free by omission. A `Cost`
answers two questions about one field occurrence, given the `Level` its parents sit at
(how many parents at most, across how many locations and stations):

- `charge`: the upstream calls the field makes for all those parents, by the same rules
  the loaders follow (one call per batch of `BATCH_SIZE` keys, one per key where the
  upstream has no batch call, pages bounded as in `gateway/loaders/limits.py`);
- `below`: the level of the objects it returns (a list multiplies the parents).

Charges that several fields share (every inventory field of a station set reads one
inventory call per location) name a `shared` key and are charged once per selection set;
`once` charges are charged once per request (the whole location list, the whole network's
status walk), as the loaders fetch them once per request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from math import ceil
from typing import Any, Protocol

from gateway.loaders.limits import BATCH_SIZE, Limits
from gateway.loaders.shape import NetworkShape

COST = "gateway.cost"  # the metadata key of a field's Cost


@dataclass(frozen=True, slots=True)
class Level:
    """Where a selection set runs: for at most `parents` objects, which belong to at most
    `locations` locations and `stations` stations."""

    parents: int = 1
    locations: int = 1
    stations: int = 1
    page: int = 1  # rows per connection (its `first`), for `nodes` and `edges`
    from_inventory: bool = False  # stations built from inventory rows
    station_known: bool = True  # transactions that name their station

    def times(self, n: int) -> Level:
        return replace(self, parents=self.parents * max(n, 0))


class Ask(Protocol):
    """What a declaration may read about the field occurrence it prices."""

    @property
    def limits(self) -> Limits: ...

    @property
    def shape(self) -> NetworkShape: ...

    @property
    def selected(self) -> frozenset[str]:
        """GraphQL names selected directly below the field (fragments included)."""
        ...

    def arg(self, name: str) -> Any:
        """The argument's value (variables applied, defaults filled in), or None."""
        ...


@dataclass(frozen=True, slots=True)
class Charge:
    calls: int = 0
    shared: Hashable | None = None  # charged once per selection set under this key
    once: bool = False  # charged once per request under `shared`


NOTHING = Charge()


@dataclass(frozen=True, slots=True)
class Cost:
    charge: Callable[[Level, Ask], Charge] = lambda level, ask: NOTHING
    below: Callable[[Level, Ask], Level] | None = None  # None: the parents' level


FREE = Cost()


def priced(cost: Cost, **more: Any) -> dict[str, Any]:
    """Field metadata declaring `cost` (and any other metadata given)."""
    return {COST: cost, **more}


def cost_of(metadata: Mapping[str, Any]) -> Cost | None:
    found = metadata.get(COST)
    return found if isinstance(found, Cost) else None


# --- the loaders' rules, as arithmetic ---------------------------------------------------


def batches(keys: int) -> int:
    """Calls for `keys` keys of a batched lookup."""
    return ceil(max(keys, 0) / BATCH_SIZE)


def status_pages(limits: Limits, locations: int) -> int:
    """Pages of the status view for `locations` locations, walked in batches of ids."""
    full, rest = divmod(max(locations, 0), BATCH_SIZE)
    return full * limits.pages(BATCH_SIZE) + limits.pages(rest)


def first_of(ask: Ask) -> int:
    """`first`, as far as it can go: a larger one is refused before any call."""
    value = ask.arg("first")
    if not isinstance(value, int) or value <= 0:
        return 0
    return min(value, ask.limits.max_page_size)


def list_pages(ask: Ask) -> int:
    """Pages one parent's GraphQL page reads: one more when it resumes inside a page."""
    first = first_of(ask)
    if first == 0:
        return 0
    return ask.limits.pages(first) + (1 if ask.arg("after") is not None else 0)


def filtered_pages(ask: Ask) -> int:
    return ask.limits.filtered_pages(first_of(ask))


def connection(level: Level, ask: Ask) -> Level:
    """A connection per parent, holding `first` rows each."""
    return replace(level, page=first_of(ask))


def rows(level: Level, ask: Ask) -> Level:
    """The rows of connections (`nodes`, `edges`): `page` per connection."""
    return replace(level, parents=level.parents * level.page, page=1)


ROWS = Cost(below=rows)


# --- declarations shared by several types --------------------------------------------------


def _one_location(level: Level, ask: Ask) -> Charge:
    # Locations by id are one batched lookup: GET /locations/{id}, or the list for several.
    return Charge(1)


def _locations_below(level: Level, ask: Ask) -> Level:
    n = min(level.parents, level.locations)
    return Level(parents=n, locations=n, stations=n * ask.shape.stations_bound)


LOCATION_BY_ID = Cost(_one_location, _locations_below)
"""A relation to one location per parent (`Station.location`, `Transaction.location` …)."""


def _evse_of_network_row(level: Level, ask: Ask) -> Charge:
    """`Transaction.evse` for rows that name no station: the location's status tree, and
    the Transactions API for each row whose EVSE id repeats at its location."""
    if level.station_known:
        return NOTHING  # the EVSE is in the status tree its station was read from
    trees = status_pages(ask.limits, min(level.parents, level.locations))
    ambiguous = ceil(level.parents * ask.shape.ambiguous_share_bound)
    return Charge(trees + ambiguous)


def _evse_below(level: Level, ask: Ask) -> Level:
    return Level(parents=level.parents, locations=level.locations, stations=level.parents)


EVSE_OF_TRANSACTION = Cost(_evse_of_network_row, _evse_below)
