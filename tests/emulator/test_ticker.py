"""The demo's background ticker: one step per `tick_s` while the app's lifespan runs, none
without a lifespan, and none unless asked for."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.emulator import EmulatorConfig, StepSummary, create_emulator_app, emulator_state
from gateway.emulator.ticker import tick, ticking
from tests.support import FIXED_NOW, SharedServer, mounted_emulator


class Sleeps:
    """A stand-in for asyncio.sleep that records each wait and cancels the loop after
    `limit` of them, so a ticker runs without waiting on the wall clock; `reached` is set
    once `limit` waits have passed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.waits: list[float] = []
        self.reached = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if len(self.waits) > self.limit:
            self.reached.set()
            await asyncio.Event().wait()  # park here until the ticker is cancelled
        await asyncio.sleep(0)


def tickers() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "emulator-ticker"]


async def test_the_ticker_steps_once_after_every_wait() -> None:
    steps: list[int] = []
    sleeps = Sleeps(limit=3)
    ticker = asyncio.create_task(tick(lambda: steps.append(len(steps)), 2.5, sleeps))
    await sleeps.reached.wait()
    ticker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ticker
    assert steps == [0, 1, 2]
    assert sleeps.waits == [2.5] * 4


async def test_a_failing_step_is_logged_and_stops_the_ticker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    sleeps = Sleeps(limit=10)
    with caplog.at_level(logging.ERROR, logger="gateway.emulator.ticker"):
        await tick(broken, 1.0, sleeps)  # returns instead of ticking on
    assert len(sleeps.waits) == 1
    assert "stops ticking" in caplog.text and "boom" in caplog.text


async def test_the_state_ticks_while_the_block_runs_and_stops_after() -> None:
    app = create_emulator_app(EmulatorConfig(now=FIXED_NOW, tick_s=3.0))
    state = emulator_state(app)
    sleeps = Sleeps(limit=4)
    async with ticking(state, sleeps):
        await sleeps.reached.wait()
    assert state.step == 4
    assert sleeps.waits == [3.0] * 5
    assert not tickers()


async def test_the_app_lifespan_runs_the_ticker_on_the_wall_clock() -> None:
    app = create_emulator_app(EmulatorConfig(now=FIXED_NOW, tick_s=0.01))
    state = emulator_state(app)
    three_steps = asyncio.Event()
    advance = state.advance

    def counted(steps: int = 1) -> StepSummary:
        summary = advance(steps)
        if state.step >= 3:
            three_steps.set()
        return summary

    state.advance = counted  # type: ignore[method-assign]
    async with app.router.lifespan_context(app):
        await three_steps.wait()  # the suite's timeout bounds the wait
        assert tickers()
    stopped_at = state.step
    await asyncio.sleep(0.05)
    assert state.step == stopped_at and not tickers()


async def test_no_ticker_unless_asked_for() -> None:
    assert EmulatorConfig().tick_s == 0
    app = create_emulator_app(EmulatorConfig(now=FIXED_NOW))
    async with app.router.lifespan_context(app):
        assert not tickers()
        await asyncio.sleep(0.02)
    assert emulator_state(app).step == 0


async def test_without_a_lifespan_nothing_ticks(emulator_server: SharedServer) -> None:
    config = EmulatorConfig(now=FIXED_NOW, tick_s=0.01)
    with mounted_emulator(emulator_server, config) as running:  # the shared server: no lifespan
        await asyncio.sleep(0.05)
        assert running.state.step == 0
