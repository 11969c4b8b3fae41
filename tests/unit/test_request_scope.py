"""`RequestScope` and `RequestLoader`: what a request's loads do when it ends or fails."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import QueryTooComplex, UpstreamUnavailable
from gateway.loaders.batch import RequestLoader
from gateway.loaders.scope import RequestEnded, RequestScope


async def test_close_cancels_running_work_and_fails_its_waiters() -> None:
    scope = RequestScope()
    finished = asyncio.Event()

    async def slow() -> str:
        await asyncio.sleep(10)
        finished.set()
        return "late"

    waiter = asyncio.ensure_future(scope.run(slow()))
    await asyncio.sleep(0)
    assert scope.pending == 1
    scope.close()
    with pytest.raises(RequestEnded):
        await waiter
    assert scope.pending == 0 and not finished.is_set()


async def test_work_asked_after_close_fails_with_the_reason_at_once() -> None:
    scope = RequestScope()
    scope.close(QueryTooComplex("budget spent"))
    ran = False

    async def work() -> None:
        nonlocal ran
        ran = True

    with pytest.raises(QueryTooComplex):
        await scope.run(work())
    assert not ran


async def test_a_failed_batch_stays_failed_for_later_loads() -> None:
    calls: list[list[str]] = []

    async def batch(keys: list[str]) -> list[str]:
        calls.append(keys)
        raise UpstreamUnavailable("down")

    loader: RequestLoader[str, str] = RequestLoader(batch, RequestScope())
    with pytest.raises(UpstreamUnavailable):
        await loader.load("a")
    with pytest.raises(UpstreamUnavailable):  # a later tick: answered from the cache
        await loader.load("a")
    assert calls == [["a"]]


async def test_a_batch_may_fail_single_keys() -> None:
    async def batch(keys: list[str]) -> list[str | Exception]:
        return [key.upper() if key != "b" else UpstreamUnavailable("b is down") for key in keys]

    loader: RequestLoader[str, str] = RequestLoader(batch, RequestScope())
    a, b = await asyncio.gather(loader.load("a"), loader.load("b"), return_exceptions=True)
    assert a == "A" and isinstance(b, UpstreamUnavailable)


async def test_close_empties_the_request_caches_so_rows_need_no_cycle_collection() -> None:
    # A loader and its owner refer to each other (the batch is the owner's bound method):
    # kept full, a request's rows would live until the next full collection.
    scope = RequestScope()

    class Owner:
        def __init__(self) -> None:
            self.loader: RequestLoader[int, list[int]] = RequestLoader(self._load, scope)

        async def _load(self, keys: list[int]) -> list[list[int]]:
            return [[key] * 1000 for key in keys]

    owner = Owner()
    rows = await asyncio.gather(*(owner.loader.load(key) for key in range(5)))
    assert len(rows) == 5 and all(owner.loader.asked(key) for key in range(5))
    scope.close()
    assert not any(owner.loader.asked(key) for key in range(5))
