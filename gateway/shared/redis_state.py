"""`RedisState`: the shared state in Redis, so that every replica sees the same keys.

One pooled redis-py asyncio client per process. Every operation is bounded: a connect
timeout, a socket timeout, no retries (a retried write of a claim could be ours twice, and
a retry multiplies the wait), and an overall deadline around each call, so a Redis that
is down or black-holed costs a request `timeout_s` at most, never a hang. Each redis-py
failure becomes `SharedStateError` here, and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.shared import Allowance, SharedStateError

T = TypeVar("T")

# GCRA on the server's own clock (TIME), so that replicas with drifting clocks agree.
# Times in microseconds, as integers: Lua numbers are doubles, and Redis truncates replies.
GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), 0, new_tat - now}
"""
INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""

# Compare-and-delete in one step: a lock that expired and was taken by another replica
# meanwhile must not be released by its former holder.
DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisState:
    def __init__(
        self, url: str, *, prefix: str = "", timeout_s: float = 0.5, max_connections: int = 50
    ) -> None:
        self._p = prefix  # namespaces this deployment's keys in a Redis it may share
        self._timeout = timeout_s
        self._redis = connect(url, timeout_s=timeout_s, max_connections=max_connections)
        self._gcra = self._redis.register_script(GCRA)
        self._incr = self._redis.register_script(INCR)
        self._delete_if = self._redis.register_script(DELETE_IF)

    async def _bounded(self, call: Awaitable[T]) -> T:
        return await bounded(call, self._timeout)

    async def get(self, key: str) -> bytes | None:
        value = await self._bounded(self._redis.get(self._p + key))
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl_s: float) -> None:
        await self._bounded(self._redis.set(self._p + key, value, px=_ms(ttl_s)))

    async def set_if_absent(self, key: str, value: bytes, *, ttl_s: float) -> bool:
        stored = await self._bounded(self._redis.set(self._p + key, value, px=_ms(ttl_s), nx=True))
        return bool(stored)

    async def delete(self, key: str) -> None:
        await self._bounded(self._redis.delete(self._p + key))

    async def delete_if(self, key: str, value: bytes) -> bool:
        dropped = await self._bounded(self._delete_if(keys=[self._p + key], args=[value]))
        return bool(dropped)

    async def delete_prefix(self, prefix: str) -> int:
        async def drop() -> int:
            dropped = 0
            async for batch in _batches(self._redis.scan_iter(match=_glob(self._p + prefix) + "*")):
                dropped += int(await self._redis.unlink(*batch))
            return dropped

        return await self._bounded(drop())

    async def incr(self, key: str, *, ttl_s: float) -> int:
        value = await self._bounded(self._incr(keys=[self._p + key], args=[_ms(ttl_s)]))
        return int(value)

    async def gcra(self, key: str, *, per_s: float, burst: int) -> Allowance:
        interval_us = max(1, round(1_000_000 / per_s))
        reply = await self._bounded(self._gcra(keys=[self._p + key], args=[interval_us, burst]))
        allowed, remaining, retry_us, reset_us = (int(x) for x in reply)
        return Allowance(bool(allowed), remaining, retry_us / 1e6, reset_us / 1e6)

    async def close(self) -> None:
        await self._redis.aclose()


def connect(url: str, *, timeout_s: float, max_connections: int = 50) -> Redis:
    """A pooled client whose every connect and read gives up after `timeout_s`, and which
    never retries by itself (a retried claim could be ours twice)."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        max_connections=max_connections,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


async def bounded(call: Awaitable[T], timeout_s: float) -> T:
    """`call` within `timeout_s`; every redis-py failure becomes `SharedStateError`."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except (RedisError, OSError, TimeoutError) as exc:
        raise SharedStateError(f"redis: {type(exc).__name__}") from exc


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _glob(text: str) -> str:
    """`text` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


async def _batches(keys: AsyncIterator[bytes], size: int = 500) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
