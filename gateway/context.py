"""The per-request `Context`: settings, fresh loaders bound to the caller, and the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from gateway.config import Settings
from gateway.cursors import CursorCodec
from gateway.errors import BadUserInput
from gateway.idempotency import IdempotencyStore
from gateway.live import LiveHub
from gateway.loaders import Limits, Loaders, NetworkShape
from gateway.upstream.client import UpstreamClient

LoadersFactory = Callable[[str | None], Loaders]  # fresh loaders for a token


@dataclass
class Context:
    settings: Settings
    loaders: Loaders
    report_cost: bool = False  # answer `extensions.cost` (header `X-Gateway-Cost: 1`)
    # The `operationName` the request gave (Strawberry would default to the first one).
    operation_name: str | None = None
    operation_run: str | None = None  # the name of the operation the document runs
    live: LiveHub | None = None  # the live layer, for subscriptions
    # The `connection_init` payload of a WebSocket (Strawberry sets it), else None.
    connection_params: dict[str, object] | None = None
    fresh_loaders: LoadersFactory | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        upstream: UpstreamClient,
        token: str | None,
        *,
        shape: NetworkShape | None = None,
        idempotency: IdempotencyStore | None = None,
        report_cost: bool = False,
        on_batch: Callable[[int], None] | None = None,
        live: LiveHub | None = None,
        shape_of: Callable[[str | None], NetworkShape] | None = None,
    ) -> Context:
        limits = limits_of(settings)

        def fresh(bearer: str | None) -> Loaders:
            return Loaders(
                upstream,
                bearer,
                time.monotonic() + settings.request_deadline_s,
                limits=limits,
                shape=shape_of(bearer) if shape_of is not None else shape,
                idempotency=idempotency,
                on_batch=on_batch,
            )

        return cls(settings, fresh(token), report_cost, live=live, fresh_loaders=fresh)

    def renew(self, token: str | None = None) -> None:
        """Close the loaders and start fresh ones (for `token`, if given).

        A WebSocket lives longer than a request: each of its operations, and each event of
        a subscription, reads through loaders of its own, with its own deadline and budget.
        """
        self.loaders.close()
        if self.fresh_loaders is not None:
            self.loaders = self.fresh_loaders(token or self.loaders.caller.bearer)

    def fork(self) -> Context:
        """A context for one operation on a WebSocket: the same caller, fresh loaders."""
        if self.fresh_loaders is None:
            return self
        return replace(self, loaders=self.fresh_loaders(self.loaders.caller.bearer))

    def cursors(self, list_name: str, filter_key: str = "") -> CursorCodec:
        """Cursors of one list and filter, for this caller (bound to its token)."""
        return CursorCodec(
            self.settings.cursor_secret,
            list_name=list_name,
            filter_key=filter_key,
            token=self.loaders.token,
        )

    def page_size(self, first: int) -> int:
        """`first`, checked against the configured cap."""
        cap = self.settings.max_page_size
        if first < 0 or first > cap:
            raise BadUserInput(f"`first` must be between 0 and {cap}.", field="first")
        return first


def limits_of(settings: Settings) -> Limits:
    """What the loaders of one request (or one live poll or event) may read."""
    return Limits(
        page_size=settings.upstream_page_size,
        max_walk_pages=settings.max_walk_pages,
        max_calls=settings.max_upstream_calls or settings.max_upstream_cost,
        max_page_size=settings.max_page_size,
    )
