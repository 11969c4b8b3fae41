"""`RequestScope`: the upstream work of one GraphQL request, ended with the request.

Batch loads run as tasks of their own (aiodataloader dispatches them outside the
resolver that asked), so neither an answered request nor a cancelled one stops them.
Every batch of a request runs through its scope instead; `close` cancels what is still
running, and the loads waiting on it fail with the reason given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from gateway.errors import GatewayError

T = TypeVar("T")


class RequestEnded(GatewayError):
    """Raised into loads still waiting when their request has already ended."""

    code = "REQUEST_ENDED"


class RequestScope:
    """Tracks the request's upstream tasks; `close` ends them."""

    def __init__(self, on_batch: Callable[[int], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._caches: list[Callable[[], object]] = []
        self.ended: GatewayError | None = None
        self.on_batch = on_batch  # told each batch's size (metrics)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` as a tracked task; after `close`, fail with the scope's reason."""
        if self.ended is not None:
            work.close()
            raise self.ended
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await task
        except asyncio.CancelledError:
            if self.ended is not None and task.cancelled():
                raise self.ended from None
            raise

    def close(self, reason: GatewayError | None = None) -> None:
        """Cancel every task still running; later work fails with `reason`."""
        if self.ended is None:
            self.ended = reason or RequestEnded("the request has ended")
        for task in list(self._tasks):
            task.cancel()
        # A loader refers to its owner (its batch is the owner's bound method) and the
        # owner to the loader: a cycle, freed only by a full collection, which the tuned
        # collector runs rarely. Emptying the caches now frees the rows at once.
        for clear in self._caches:
            clear()
        self._caches.clear()

    def holds(self, clear: Callable[[], object]) -> None:
        """Register a request cache for `close` to empty."""
        self._caches.append(clear)

    @property
    def pending(self) -> int:
        return len(self._tasks)
