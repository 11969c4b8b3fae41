"""`MemoryState`: the shared state of one process, for a single replica."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.shared import Allowance
from gateway.shared.gcra import decide


class MemoryState:
    """Keys with expiry, at most `max_keys` (the least recently written go first).

    `evictions` counts the unexpired keys dropped to make room (each also calls
    `on_evict`); an expired key dropped so is no loss and not counted."""

    def __init__(
        self,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        on_evict: Callable[[], None] | None = None,
    ) -> None:
        self._items: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._max = max_keys
        self._clock = clock
        self._on_evict = on_evict
        self.evictions = 0

    async def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._items[key]
            return None
        return item[0]

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None:
        self._items[key] = (value, self._clock() + ttl_s)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            _, (_, expires) = self._items.popitem(last=False)
            if expires > self._clock():
                self.evictions += 1
                if self._on_evict is not None:
                    self._on_evict()

    async def set_if_absent(self, key: str, value: bytes, *, ttl_s: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_s=ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def delete_if(self, key: str, value: bytes) -> bool:
        if await self.get(key) != value:
            return False
        del self._items[key]
        return True

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self._items if key.startswith(prefix)]
        for key in doomed:
            del self._items[key]
        return len(doomed)

    async def incr(self, key: str, *, ttl_s: float) -> int:
        item = self._items.get(key)
        now = self._clock()
        if item is None or item[1] <= now:
            item = (b"0", now + ttl_s)
        value = int(item[0]) + 1
        self._items[key] = (str(value).encode(), item[1])
        return value

    async def gcra(self, key: str, *, per_s: float, burst: int) -> Allowance:
        now = self._clock()
        stored = await self.get(key)
        tat, allowance = decide(
            float(stored) if stored is not None else None, now, per_s=per_s, burst=burst
        )
        if allowance.allowed:
            await self.set(key, repr(tat).encode(), ttl_s=max(tat - now, 0.001))
        return allowance

    async def close(self) -> None:
        self._items.clear()
