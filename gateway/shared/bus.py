"""`RedisBus`: leases, boards and channels in Redis, for work one replica does for all.

- A lease is a key holding its holder's id, with an expiry: claimed with SET NX, renewed
  only by its holder, released only by its holder (compare-and-act scripts), so a replica
  that paused past its lease cannot take it back from the one that took over.
- A board is a hash where each replica keeps one entry with a deadline on the server's
  clock; readers see only live entries, so a dead replica's entry fades by itself.
- Channels are Redis pub/sub: at most once and without history, so what is sent on one
  must be a state a late or lossy reader can start from (the live layer sends snapshots).

Every call is bounded by `timeout_s` and raises `SharedStateError` when Redis does not
answer; the listener reconnects by itself and subscribes again to every channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from gateway.shared import SharedStateError
from gateway.shared.redis_state import bounded, connect

log = logging.getLogger("gateway.shared.bus")
T = TypeVar("T")
Handler = Callable[[bytes], None]

CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Entries are "<deadline in ms on the server's clock>:<value>"; the hash outlives its
# newest entry a little, so a board nobody writes to any more goes away.
POST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], (now + tonumber(ARGV[2])) .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[2]))
return 1
"""
READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local live = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local sep = string.find(all[i + 1], ':', 1, true)
  if tonumber(string.sub(all[i + 1], 1, sep - 1)) > now then
    table.insert(live, all[i])
    table.insert(live, string.sub(all[i + 1], sep + 1))
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return live
"""
LISTEN_WAIT_S = 0.2  # how long the listener waits for a message before it looks at changes
RECONNECT_S = 1.0
PROBE_S = 1.0  # how often the listener checks that its subscription still hears


class RedisBus:
    def __init__(self, url: str, *, prefix: str = "", timeout_s: float = 0.5) -> None:
        self._p = prefix
        self._url = url
        self._timeout = timeout_s
        self._redis = connect(url, timeout_s=timeout_s)
        self._claim = self._redis.register_script(CLAIM)
        self._release = self._redis.register_script(RELEASE)
        self._post = self._redis.register_script(POST)
        self._read = self._redis.register_script(READ)
        self._handlers: dict[str, Handler] = {}
        self._probe = f"{prefix}bus-probe:{uuid.uuid4().hex}"  # this listener's own channel
        self._changed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self.connected = False  # whether the listener holds its subscriptions now

    async def _bounded(self, call: Awaitable[T]) -> T:
        return await bounded(call, self._timeout)

    # --- leases ---------------------------------------------------------------------------

    async def claim(self, keys: list[str], holder: str, *, ttl_s: float) -> list[bool]:
        """Take or renew each lease in `keys` for `holder`; which ones it holds now."""
        if not keys:
            return []

        async def claim_all() -> list[bool]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    await self._claim(keys=[self._p + key], args=[holder, _ms(ttl_s)], client=pipe)
                replies = await pipe.execute()
            return [bool(int(reply)) for reply in replies]

        return await self._bounded(claim_all())

    async def release(self, key: str, holder: str) -> None:
        await self._bounded(self._release(keys=[self._p + key], args=[holder]))

    # --- boards ---------------------------------------------------------------------------

    async def post(self, board: str, entry: str, value: bytes, *, ttl_s: float) -> None:
        await self._bounded(self._post(keys=[self._p + board], args=[entry, _ms(ttl_s), value]))

    async def remove(self, board: str, entry: str) -> None:
        await self._bounded(self._redis.hdel(self._p + board, entry))

    async def read(self, board: str) -> dict[str, bytes]:
        """The board's live entries, by entry."""
        reply = await self._bounded(self._read(keys=[self._p + board]))
        pairs = [item.encode() if isinstance(item, str) else item for item in reply]
        return {pairs[i].decode(): pairs[i + 1] for i in range(0, len(pairs), 2)}

    # --- channels -------------------------------------------------------------------------

    async def publish(self, channel: str, message: bytes) -> int:
        """Send `message` to whoever listens now; how many listeners got it."""
        return int(await self._bounded(self._redis.publish(self._p + channel, message)))

    def listen(self, channel: str, handler: Handler) -> None:
        """Call `handler` with each message on `channel` (from the listener task)."""
        self._handlers[self._p + channel] = handler
        self._changed.set()
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")

    def stop_listening(self, channel: str) -> None:
        if self._handlers.pop(self._p + channel, None) is not None:
            self._changed.set()

    async def _listen(self) -> None:
        while True:
            # A client of its own each time: a pooled connection a cancelled command left
            # half-read must never become the subscription's.
            client = Redis.from_url(
                self._url,
                socket_timeout=None,  # get_message bounds each wait itself
                socket_connect_timeout=self._timeout,
                retry=Retry(NoBackoff(), 0),
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await self._follow(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                if self.connected:
                    log.warning("redis bus: lost the subscription (%s); reconnecting", exc)
                self.connected = False
            finally:
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await asyncio.wait_for(pubsub.aclose(), self._timeout)  # type: ignore[no-untyped-call]
                    await asyncio.wait_for(client.aclose(), self._timeout)
            await asyncio.sleep(RECONNECT_S)

    async def _follow(self, pubsub: PubSub) -> None:
        """Hold the subscriptions `_handlers` names, and prove they still hear: a probe
        sent to ourselves every `PROBE_S`; none heard for three of them, and the
        subscription is dropped and made again (a connection can stay open and hear
        nothing, e.g. after Redis was replaced under it)."""
        subscribed: set[str] = set()
        loop = asyncio.get_running_loop()
        heard_at = sent_at = loop.time()
        while True:
            now = loop.time()
            if now - heard_at > 3 * PROBE_S:
                raise RedisConnectionError("the subscription heard nothing, not even its probe")
            if now - sent_at >= PROBE_S:
                sent_at = now
                with contextlib.suppress(SharedStateError):
                    await self._bounded(self._redis.publish(self._probe, b""))
            if self._changed.is_set() or not self.connected:
                self._changed.clear()
                wanted = {*self._handlers, self._probe}
                if gone := subscribed - wanted:
                    await asyncio.wait_for(pubsub.unsubscribe(*gone), self._timeout)
                if new := wanted - subscribed:
                    await asyncio.wait_for(pubsub.subscribe(*new), self._timeout)
                subscribed = wanted
                self.connected = True
            message = await pubsub.get_message(timeout=LISTEN_WAIT_S)
            if message is None or message.get("type") != "message":
                continue
            raw = message["channel"]
            channel = raw.decode() if isinstance(raw, bytes) else raw
            if channel == self._probe:
                heard_at = loop.time()
                continue
            handler = self._handlers.get(channel)
            if handler is not None:
                try:
                    handler(message["data"])
                except Exception:  # one bad message must not end the listener
                    log.exception("redis bus: a handler failed on %s", channel)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
