"""`RequestLoader`: the one cache of a request's upstream reads.

Every read goes through a DataLoader bound to the request: keys asked in one tick become
one batch, each key is fetched at most once per request, and aliases, fragments and
sibling parents share the answer. Single reads (the whole location list) and pages of a
list are DataLoaders too, keyed by what they fetch, so there is one caching mechanism.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

from aiodataloader import DataLoader

from gateway.loaders.scope import RequestScope

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Batch = Callable[[list[K]], Awaitable[Sequence[V | Exception]]]


class RequestLoader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader whose batches run in the request's scope and whose failures stay.

    A batch that raises fails each of its keys and stays cached as failed: aiodataloader
    would forget the keys, and a later field of the same request would ask the failing
    upstream again. A batch function may also fail single keys (answer an exception in
    that key's place), which aiodataloader's types do not admit.
    """

    def __init__(
        self, batch: Batch[K, V], scope: RequestScope, *, max_batch_size: int | None = None
    ) -> None:
        self._batch = batch
        self._scope = scope
        super().__init__(cast(Any, self._settled), max_batch_size=max_batch_size)
        scope.holds(self.clear_all)

    def prefetch(self, key: K) -> None:
        """Ask for `key` now, before the field that needs it runs: its call then overlaps
        the calls it would otherwise wait behind. A failure stays for that field to see."""
        future = self.load(key)
        future.add_done_callback(_seen)

    def asked(self, key: K) -> bool:
        """Whether this request has asked for `key` already (answered or not)."""
        return self.get_cache_key(key) in self._cache

    async def _settled(self, keys: list[K]) -> Sequence[V | Exception]:
        if self._scope.on_batch is not None:
            self._scope.on_batch(len(keys))
        try:
            return await self._scope.run(_gathered(self._batch, keys))
        except Exception as failure:  # handed to every waiting field
            return [failure] * len(keys)


def _seen(future: Any) -> None:
    # Read the failure of a future nobody may await, so asyncio does not log it as lost.
    if not future.cancelled():
        future.exception()


async def _gathered(batch: Batch[K, V], keys: list[K]) -> Sequence[V | Exception]:
    return await batch(keys)


def each(fetch: Callable[[K], Awaitable[V]]) -> Batch[K, V]:
    """A batch function for an upstream that has no batch call: one call per key, at once."""

    async def batch(keys: list[K]) -> Sequence[V | Exception]:
        settled = await settle(dict.fromkeys(keys), fetch)
        return [settled[key] for key in keys]

    return batch


async def settle(keys: Iterable[K], load: Callable[[K], Awaitable[V]]) -> dict[K, V | Exception]:
    """Load every key concurrently; a failure stays with its own key."""
    ordered = list(keys)
    results = await asyncio.gather(*(load(key) for key in ordered), return_exceptions=True)
    settled: dict[K, V | Exception] = {}
    for key, result in zip(ordered, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, Exception):
            raise result
        settled[key] = result
    return settled
