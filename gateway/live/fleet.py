"""The fleet: one poller per cohort across every replica that shares a Redis.

Each replica holding a cohort (credential digest, view) keeps a link to it here. One
heartbeat per replica, every third of the lease, takes or renews the cohort's lease and
posts the cohort's location filter on the cohort's board. The replica holding the lease
polls, for the union of every replica's filters, and publishes the snapshot on the
cohort's channel; the others deliver what they receive, diffed against what they saw
last. When the leader dies its lease runs out and the next heartbeat elsewhere takes it.
Redis unreachable: each replica leads its own cohorts (more upstream calls, no lost
events) until Redis answers again.

Tenancy: lease, board and channel names carry the credential digest, and only cohorts of
that digest listen on its channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import msgspec

from gateway.live.cohorts import CohortKey
from gateway.loaders.queries import LocationUids
from gateway.shared import SharedStateError

log = logging.getLogger("gateway.live.fleet")
CLOSE_WAIT_S = 2.0  # for the last hand-overs at shutdown


class Bus(Protocol):
    """What the fleet needs of Redis (`gateway.shared.bus.RedisBus`)."""

    async def claim(self, keys: list[str], holder: str, *, ttl_s: float) -> list[bool]: ...
    async def release(self, key: str, holder: str) -> None: ...
    async def post(self, board: str, entry: str, value: bytes, *, ttl_s: float) -> None: ...
    async def remove(self, board: str, entry: str) -> None: ...
    async def read(self, board: str) -> dict[str, bytes]: ...
    async def publish(self, channel: str, message: bytes) -> int: ...
    def listen(self, channel: str, handler: Callable[[bytes], None]) -> None: ...
    def stop_listening(self, channel: str) -> None: ...
    async def close(self) -> None: ...


class Envelope(msgspec.Struct, frozen=True):
    sender: str
    kind: str  # "snapshot", "poll" (a follower needs one now), "backoff", "unauthenticated"
    body: bytes = b""
    pause_s: float = 0.0


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Envelope).decode
_scope_codec = msgspec.json.Decoder(tuple[str, ...] | None)


class Member(Protocol):
    """What a link tells its cohort (`Cohort` implements it)."""

    def lead_changed(self, leading: bool) -> None: ...
    def received(self, envelope: Envelope) -> None: ...
    def scope(self) -> LocationUids: ...


class FleetLink:
    """One cohort's place in the fleet."""

    def __init__(self, fleet: Fleet, key: CohortKey, member: Member) -> None:
        self._fleet = fleet
        self.key = key
        self.member = member
        self.leading = False
        name = f"live:{key.resource}:{key.credential}"
        self.lease, self.board, self.channel = f"{name}:lease", f"{name}:scopes", name

    @property
    def recheck_s(self) -> float:
        return self._fleet.renew_s

    def set_leading(self, leading: bool) -> None:
        if leading != self.leading:
            self.leading = leading
            self.member.lead_changed(leading)

    def on_message(self, raw: bytes) -> None:
        try:
            envelope = _decode(raw)
        except msgspec.DecodeError:
            log.warning("fleet: an unreadable message on %s", self.key.resource)
            return
        if envelope.sender != self._fleet.replica:
            self.member.received(envelope)

    async def remote_scopes(self) -> list[LocationUids]:
        """The filters the other replicas posted for this cohort; none if Redis is away."""
        if self._fleet.degraded:
            return []  # each replica polls for its own: no wait on a Redis that is away
        try:
            entries = await self._fleet.bus.read(self.board)
        except SharedStateError:
            return []
        return [
            _scope_codec.decode(value)
            for entry, value in entries.items()
            if entry != self._fleet.replica
        ]

    def send(self, kind: str, body: bytes = b"", pause_s: float = 0.0) -> None:
        self._fleet.send(self, Envelope(self._fleet.replica, kind, body, pause_s))

    def ask_poll(self) -> None:
        """A subscriber here needs locations the last snapshot lacks: post our filter
        first, then ask the leader for a poll."""
        self._fleet.send(self, Envelope(self._fleet.replica, "poll"), post_scope=True)

    def close(self) -> None:
        self._fleet.unlink(self)


class Fleet:
    def __init__(self, bus: Bus, *, lease_s: float = 3.0, replica: str | None = None) -> None:
        self.bus = bus
        self.replica = replica or uuid.uuid4().hex
        self.lease_s = lease_s
        self.renew_s = lease_s / 3
        self.degraded = False  # Redis did not answer the last heartbeat
        self._links: dict[CohortKey, FleetLink] = {}
        self._wake = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.published = 0

    def link(self, key: CohortKey, member: Member) -> FleetLink:
        link = self._links[key] = FleetLink(self, key, member)
        self.bus.listen(link.channel, link.on_message)
        self._wake.set()  # claim or learn the leader now, not a beat later
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="live-fleet-heartbeat")
        return link

    def unlink(self, link: FleetLink) -> None:
        if self._links.get(link.key) is link:
            del self._links[link.key]
        self.bus.stop_listening(link.channel)
        self._spawn(self._leave(link))

    async def _leave(self, link: FleetLink) -> None:
        with contextlib.suppress(SharedStateError):
            await self.bus.remove(link.board, self.replica)
            if link.leading:  # hand over now, not when the lease runs out
                await self.bus.release(link.lease, self.replica)

    def send(self, link: FleetLink, envelope: Envelope, *, post_scope: bool = False) -> None:
        async def deliver() -> None:
            try:
                if post_scope:
                    await self._post(link)
                await self.bus.publish(link.channel, _encode(envelope))
                self.published += envelope.kind == "snapshot"
            except SharedStateError as exc:
                log.debug("fleet: could not publish on %s: %s", link.key.resource, exc)

        self._spawn(deliver())

    async def _post(self, link: FleetLink) -> None:
        scope = msgspec.json.encode(link.member.scope())
        await self.bus.post(link.board, self.replica, scope, ttl_s=self.lease_s)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)  # held until done: a bare task may be collected
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _beat(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.renew_s)
            self._wake.clear()
            links = list(self._links.values())
            try:
                held = await self.bus.claim(
                    [x.lease for x in links], self.replica, ttl_s=self.lease_s
                )
                for link in links:
                    await self._post(link)
            except SharedStateError as exc:
                if not self.degraded:
                    log.warning("fleet: Redis did not answer (%s); polling for ourselves", exc)
                self.degraded = True
                held = [True] * len(links)
            else:
                if self.degraded:
                    log.warning("fleet: Redis answers again; one poller per cohort")
                self.degraded = False
            for link, leading in zip(links, held, strict=True):
                if self._links.get(link.key) is link:
                    link.set_leading(leading)

    async def close(self) -> None:
        """Stop the heartbeat, hand over every lease held, and close the bus."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        for link in list(self._links.values()):
            link.close()
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=CLOSE_WAIT_S)
        await self.bus.close()
