"""The per-request `Context`: settings, fresh loaders bound to the caller, and the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.config import Settings
from gateway.cursors import CursorCodec
from gateway.errors import BadUserInput
from gateway.idempotency import IdempotencyStore
from gateway.loaders import Limits, Loaders, NetworkShape
from gateway.upstream.client import UpstreamClient


@dataclass
class Context:
    settings: Settings
    loaders: Loaders
    report_cost: bool = False  # answer `extensions.cost` (header `X-Gateway-Cost: 1`)
    # The `operationName` the request gave (Strawberry would default to the first one).
    operation_name: str | None = None
    operation_run: str | None = None  # the name of the operation the document runs

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
    ) -> Context:
        deadline = time.monotonic() + settings.request_deadline_s
        limits = Limits(
            page_size=settings.upstream_page_size,
            max_walk_pages=settings.max_walk_pages,
            max_calls=settings.max_upstream_calls or settings.max_upstream_cost,
            max_page_size=settings.max_page_size,
        )
        loaders = Loaders(
            upstream,
            token,
            deadline,
            limits=limits,
            shape=shape,
            idempotency=idempotency,
            on_batch=on_batch,
        )
        return cls(settings, loaders, report_cost)

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
