"""The demo's background ticker: one step of the live clock every `EmulatorConfig.tick_s`
seconds of wall time, for as long as the app's lifespan runs.

Tests leave it off (tick_s = 0) and step the world themselves; an app served without a
lifespan (the test suite's shared server) never starts it either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from .state import EmulatorState

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


async def tick(
    advance: Callable[[], object], interval_s: float, sleep: Sleep = asyncio.sleep
) -> None:
    """Call `advance` after every `interval_s` seconds, until cancelled.

    A step that fails is a bug in the emulator: it is logged and the ticking stops, rather
    than failing again on every tick while the API keeps answering.
    """
    while True:
        await sleep(interval_s)
        try:
            advance()
        except Exception:
            log.exception("the emulator's live clock failed a step; it stops ticking")
            return


@contextlib.asynccontextmanager
async def ticking(state: EmulatorState, sleep: Sleep = asyncio.sleep) -> AsyncIterator[None]:
    """Run the ticker while the block runs, if `state.config.tick_s` asks for one."""
    interval = state.config.tick_s
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(tick(state.advance, interval, sleep), name="emulator-ticker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
