"""Per-request loaders, one module per upstream source, behind the `Loaders` facade.

Built fresh for every GraphQL request from the shared client and the caller's token, so
no cached row outlives the request or crosses to another tenant. Every batch returns one
result per key, in key order; a missing key fails alone with `NotFound`, a failed upstream
call fails the whole batch, and a failure stays cached for the rest of the request.

The upstream calls each relation costs for N parents are listed in the README
("Upstream calls per relation"); the tests hold the gateway to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property

from gateway.idempotency import IdempotencyStore
from gateway.loaders.caller import CallBudget, Caller
from gateway.loaders.hardware_errors import HardwareErrorLoaders
from gateway.loaders.limits import Limits
from gateway.loaders.locations import LocationLoaders
from gateway.loaders.network_status import NetworkStatusLoaders
from gateway.loaders.power import PowerLoaders
from gateway.loaders.scope import RequestScope
from gateway.loaders.sessions import SessionLoaders
from gateway.loaders.shape import NetworkShape
from gateway.loaders.station_index import StationIndex
from gateway.loaders.stations import StationLoaders
from gateway.loaders.transactions import TransactionLoaders
from gateway.loaders.writer import LocationWriter
from gateway.upstream.client import UpstreamClient
from gateway.upstream.models import NetworkLocationStatus


class Loaders:
    """Every source a request reads, sharing its caller and its scope."""

    def __init__(
        self,
        upstream: UpstreamClient,
        token: str | None,
        deadline: float,
        *,
        limits: Limits | None = None,
        shape: NetworkShape | None = None,
        idempotency: IdempotencyStore | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.limits = limits = limits or Limits()
        self.scope = scope = RequestScope(on_batch)
        self.budget = CallBudget(limits.max_calls)
        self.caller = Caller(upstream, token, deadline, scope, self.budget, shape or NetworkShape())
        self._index = StationIndex()
        scope.holds(self._index.clear)
        self._idempotency = idempotency
        self._unprimed: list[NetworkLocationStatus] = []  # learnt when status is first used

    # Each source is built on first use: most requests need only one or two of them.
    @cached_property
    def locations(self) -> LocationLoaders:
        return LocationLoaders(self.caller, self.scope)

    @cached_property
    def network_status(self) -> NetworkStatusLoaders:
        status = NetworkStatusLoaders(
            self.caller,
            self.scope,
            learn=self._index.learn_status,
            max_pages=self.limits.max_walk_pages,
        )
        self._learn(status, self._unprimed)
        self._unprimed = []
        return status

    @cached_property
    def stations(self) -> StationLoaders:
        status = self.network_status  # first: it teaches the index what was primed
        return StationLoaders(self.caller, self.scope, self._index, status)

    @cached_property
    def power(self) -> PowerLoaders:
        return PowerLoaders(self.caller, self.scope)

    @cached_property
    def transactions(self) -> TransactionLoaders:
        return TransactionLoaders(
            self.caller, self.scope, self.limits, self.network_status, self.stations
        )

    @cached_property
    def sessions(self) -> SessionLoaders:
        return SessionLoaders(self.caller, self.scope, self.limits)

    @cached_property
    def hardware_errors(self) -> HardwareErrorLoaders:
        return HardwareErrorLoaders(self.caller, self.scope, self.limits)

    @cached_property
    def writer(self) -> LocationWriter:
        return LocationWriter(self.caller, self.locations, self._idempotency)

    def prime_status(self, trees: Iterable[NetworkLocationStatus]) -> None:
        """Status trees read elsewhere just now (a live poll's): the request looks them up
        instead of asking the upstream again. Kept until a resolver reads status or
        stations: most subscription events select neither, and priming costs per event."""
        if "network_status" in self.__dict__:
            self._learn(self.network_status, trees)
        else:
            self._unprimed.extend(trees)

    def _learn(self, status: NetworkStatusLoaders, trees: Iterable[NetworkLocationStatus]) -> None:
        for tree in trees:
            self._index.learn_status(tree)
            status.by_location.prime(tree.id, tree)

    @property
    def shape(self) -> NetworkShape:
        """What the gateway has seen of this caller's network (for the cost estimate)."""
        return self.caller.shape

    @property
    def token(self) -> str:
        """The caller's token; without one, the field fails before any upstream call."""
        return self.caller.token

    def close(self) -> None:
        """End the request's upstream work still running (the answer no longer needs it)."""
        self.scope.close()


__all__ = ["Limits", "Loaders", "NetworkShape", "RequestScope"]
