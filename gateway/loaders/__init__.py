"""Per-request loaders, one module per upstream source, behind the `Loaders` facade.

Built fresh for every GraphQL request from the shared client and the caller's token, so
no cached row outlives the request or crosses to another tenant. Every batch returns one
result per key, in key order; a missing key fails alone with `NotFound`, a failed upstream
call fails the whole batch, and a failure stays cached for the rest of the request.

The upstream calls each relation costs for N parents are listed in the README
("Upstream calls per relation"); the tests hold the gateway to them.
"""

from __future__ import annotations

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
    ) -> None:
        self.limits = limits = limits or Limits()
        self.scope = scope = RequestScope()
        self.budget = CallBudget(limits.max_calls)
        self.caller = caller = Caller(
            upstream, token, deadline, scope, self.budget, shape or NetworkShape()
        )
        index = StationIndex()
        self.locations = LocationLoaders(caller, scope)
        self.network_status = NetworkStatusLoaders(
            caller, scope, learn=index.learn_status, max_pages=limits.max_walk_pages
        )
        self.stations = StationLoaders(caller, scope, index, self.network_status)
        self.power = PowerLoaders(caller, scope)
        self.transactions = TransactionLoaders(
            caller, scope, limits, self.network_status, self.stations
        )
        self.sessions = SessionLoaders(caller, scope, limits)
        self.hardware_errors = HardwareErrorLoaders(caller, scope, limits)
        self.writer = LocationWriter(caller, self.locations, idempotency)

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
