"""Loaders end their upstream work with the request."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from gateway.loaders import Loaders
from gateway.upstream.client import UpstreamClient


class SlowUpstream:
    def __init__(self) -> None:
        self.finished = False

    async def list_locations(self, *, token: str, deadline: float | None = None) -> tuple[()]:
        await asyncio.sleep(5)
        self.finished = True
        return ()


async def test_cancel_pending_stops_walks_nobody_awaits() -> None:
    upstream = SlowUpstream()
    loaders = Loaders(cast(UpstreamClient, cast(Any, upstream)), "token", deadline=0.0)
    waiter = asyncio.ensure_future(loaders.all_locations())
    await asyncio.sleep(0)  # the memo task starts
    loaders.cancel_pending()
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled()
    assert not upstream.finished
