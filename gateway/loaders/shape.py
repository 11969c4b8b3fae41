"""What the gateway has seen of each caller's network: how many locations, how many
stations a location holds at most, how many EVSEs a station, and how often an EVSE id
repeats within a location.

The cost estimate (`gateway/schema/cost.py`) runs before any upstream call, so it cannot
count a caller's stations; it takes these sizes instead: the largest ever seen for the
caller, else the contract's generous hints. Kept per credential digest (the sizes of
one tenant's network say nothing about another's), in a bounded LRU with a time to live,
and learnt from every status tree, inventory and location list a request reads.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.shared import credential_digest
from gateway.upstream import contract
from gateway.upstream.models import LocationChargingStation, NetworkLocationStatus

STATUS_LEARNING_INTERVAL_S = 5.0


@dataclass
class NetworkShape:
    """Largest sizes seen of one caller's network (None: not seen yet)."""

    locations: int | None = None
    stations_per_location: int | None = None
    evses_per_station: int | None = None
    evses_per_location: int | None = None
    # Share of EVSEs whose id repeats at their location (their network transactions need
    # the Transactions API to say which station they ran on).
    ambiguous_evse_share: float | None = None
    seen_at: float = field(default=0.0)
    status_learnt_at: float = field(default=-STATUS_LEARNING_INTERVAL_S)
    status_learnt_trees: int = 0

    # --- what the estimate reads: the seen size, else the contract's hint -------------
    @property
    def location_bound(self) -> int:
        return self.locations if self.locations is not None else contract.LOCATIONS_HINT

    @property
    def stations_bound(self) -> int:
        seen = self.stations_per_location
        return seen if seen is not None else contract.STATIONS_PER_LOCATION_HINT

    @property
    def evses_per_station_bound(self) -> int:
        seen = self.evses_per_station
        return seen if seen is not None else contract.EVSES_PER_STATION_HINT

    @property
    def evses_per_location_bound(self) -> int:
        seen = self.evses_per_location
        if seen is not None:
            return seen
        return contract.STATIONS_PER_LOCATION_HINT * contract.EVSES_PER_STATION_HINT

    @property
    def ambiguous_share_bound(self) -> float:
        seen = self.ambiguous_evse_share
        return seen if seen is not None else 1.0

    # --- learning --------------------------------------------------------------------
    def learn_locations(self, count: int) -> None:
        self.locations = max(count, self.locations or 0)

    def learn_inventory(self, stations: tuple[LocationChargingStation, ...]) -> None:
        self.stations_per_location = max(len(stations), self.stations_per_location or 0)

    def learn_status(self, trees: Iterable[NetworkLocationStatus], *, now: float) -> None:
        # Sizes change slowly: learn from a caller's status trees every few seconds, not
        # from every request (counting repeated EVSE ids per site is not free), unless
        # this walk shows more sites than the last one learnt from.
        trees = tuple(trees)
        recent = now - self.status_learnt_at < STATUS_LEARNING_INTERVAL_S
        if recent and len(trees) <= self.status_learnt_trees:
            return
        self.status_learnt_at = now
        self.status_learnt_trees = len(trees)
        repeated = total = 0
        for tree in trees:
            stations = tree.stations
            self.stations_per_location = max(len(stations), self.stations_per_location or 0)
            ids = Counter(evse.evse_id for station in stations for evse in station.evses)
            count = sum(ids.values())
            self.evses_per_location = max(count, self.evses_per_location or 0)
            for station in stations:
                self.evses_per_station = max(len(station.evses), self.evses_per_station or 0)
            total += count
            repeated += sum(n for n in ids.values() if n > 1)
        if total:
            share = repeated / total
            self.ambiguous_evse_share = max(share, self.ambiguous_evse_share or 0.0)


class ShapeBook:
    """Network shapes by credential digest: bounded, expiring, shared by all requests."""

    def __init__(
        self,
        *,
        max_callers: int = 10_000,
        ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shapes: OrderedDict[str, NetworkShape] = OrderedDict()
        self._max = max_callers
        self._ttl = ttl_s
        self._clock = clock

    def of(self, token: str | None) -> NetworkShape:
        """The caller's shape (a fresh, unseen one for a new or expired caller)."""
        if token is None:
            return NetworkShape()
        key = credential_digest(token)
        now = self._clock()
        shape = self._shapes.get(key)
        if shape is None or now - shape.seen_at > self._ttl:
            shape = NetworkShape(seen_at=now)
            self._shapes[key] = shape
        self._shapes.move_to_end(key)
        while len(self._shapes) > self._max:
            self._shapes.popitem(last=False)
        return shape
