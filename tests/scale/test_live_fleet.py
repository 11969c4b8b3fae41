"""Fleet-wide cohorts: subscriptions of one credential spread over two replicas on one Redis
make one upstream poll per interval (the leader's), every subscriber on either replica
gets the events, and when the leader dies the other replica takes over its polls.

Counts come from the emulator (upstream calls) and each replica's /metrics (its polls);
the events are checked against the emulator's own account of the EVSEs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets

from tests.live.oracle import EvseKey, evse_states, location_of_evses, wire_name
from tests.scale.conftest import RedisServer
from tests.scale.redis_process import redis_process
from tests.scale.replicas import Replica, replica_processes
from tests.support import RunningEmulator

DOCUMENT = (
    "subscription ($ids: [ID!]) { evseStatusChanges(locationIds: $ids, includeInitial: true)"
    " { locationId initial status txStatus txId evse { stationId evseId } } }"
)
PER_SOCKET = 10
SOCKETS_PER_REPLICA = 5  # 50 subscriptions on each replica, 100 in all
WAIT_S = 60.0  # a guard against a hang, never a measure of speed
INTERVAL_S = 0.4
LEASE_S = 1.2
State = tuple[str | None, str | None, str | None]


class Socket:
    """One graphql-transport-ws connection carrying `PER_SOCKET` subscriptions; the last
    state it was told of each EVSE, per subscription."""

    def __init__(self, url: str, token: str, ids: list[str] | None) -> None:
        self.url = url.replace("http://", "ws://") + "/graphql"
        self.token = token
        self.ids = ids
        self.states: dict[str, dict[EvseKey, State]] = {str(i): {} for i in range(PER_SOCKET)}
        self.locations: set[str] = set()
        self.events = 0

    async def run(self, ready: asyncio.Event) -> None:
        async with websockets.connect(self.url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"Authorization": f"Bearer {self.token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for sid in self.states:
                payload = {"query": DOCUMENT, "variables": {"ids": self.ids}}
                await ws.send(json.dumps({"id": sid, "type": "subscribe", "payload": payload}))
            ready.set()
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send('{"type": "pong"}')
                    continue
                assert message["type"] == "next", message
                change = message["payload"]["data"]["evseStatusChanges"]
                key = (change["evse"]["stationId"], change["evse"]["evseId"])
                state = (wire_name(change["status"]), wire_name(change["txStatus"]))
                self.states[message["id"]][key] = (*state, change["txId"])
                self.locations.add(change["locationId"])
                self.events += 1


async def polls(http: httpx.AsyncClient, replica: Replica) -> int:
    text = (await http.get(replica.url + "/metrics")).text
    found = re.search(
        r'^gateway_live_polls_total\{outcome="ok",resource="status"\} (\S+)$', text, re.M
    )
    return int(float(found.group(1))) if found else 0


async def cohorts_led(http: httpx.AsyncClient, replica: Replica) -> int:
    text = (await http.get(replica.url + "/metrics")).text
    found = re.search(r"^gateway_live_cohorts_led (\S+)$", text, re.M)
    assert found, "no gateway_live_cohorts_led sample"
    return int(float(found.group(1)))


async def until(check: Callable[[], bool], step: Callable[[], Any] | None = None) -> None:
    async def reached() -> None:
        while not check():
            if step is not None:
                await step()
            await asyncio.sleep(0.05)

    await asyncio.wait_for(reached(), WAIT_S)


@contextlib.asynccontextmanager
async def running(sockets: list[Socket]) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = []
    for socket in sockets:
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(socket.run(ready)))
        await asyncio.wait_for(ready.wait(), WAIT_S)
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def fleet_env(redis_server: RedisServer) -> dict[str, str]:
    return {
        "GATEWAY_REDIS_URL": redis_server.url,
        "GATEWAY_REDIS_KEY_PREFIX": redis_server.prefix(),
        "GATEWAY_LIVE_STATUS_INTERVAL_S": str(INTERVAL_S),
        "GATEWAY_LIVE_FLEET_LEASE_S": str(LEASE_S),
        "GATEWAY_LIVE_KEEPALIVE_S": "0",
    }


def status_calls(emulator: RunningEmulator, uid: str) -> int:
    """Status calls that named `uid` (the cohort's polls, not a whole-network walk)."""
    return sum(
        op == "getNetworkStatus" and uid in target
        for op, _, target in list(emulator.state.requests)
    )


async def test_one_poll_per_interval_across_replicas_and_a_takeover(
    redis_server: RedisServer, emulator: RunningEmulator
) -> None:
    tenant = emulator.tenant_a
    located = location_of_evses(emulator, tenant)
    sites = list(located.values())
    busiest = sorted(set(sites), key=lambda uid: (-sites.count(uid), uid))[:2]

    def truth(uid: str) -> dict[EvseKey, State]:
        states = evse_states(emulator, tenant)
        return {key: state for key, state in states.items() if located[key] == uid}

    def in_step(sockets: list[Socket], uid: str) -> bool:
        expected = truth(uid)
        return all(states == expected for s in sockets for states in s.states.values())

    with replica_processes(2, emulator.url, fleet_env(redis_server)) as (first, second):
        # Each replica's subscribers watch their own site: the leader must poll both.
        on = {first.url: busiest[0], second.url: busiest[1]}
        sockets = {
            r.url: [
                Socket(r.url, emulator.token_a, [on[r.url]]) for _ in range(SOCKETS_PER_REPLICA)
            ]
            for r in (first, second)
        }
        async with (
            httpx.AsyncClient(timeout=30) as http,
            running([*sockets[first.url], *sockets[second.url]]),
        ):

            async def advance() -> None:
                url = f"{emulator.url}/_emulator/clock/advance"
                (await http.post(url, json={"steps": 1})).raise_for_status()
                await asyncio.sleep(INTERVAL_S)

            # All 100 get their site's initial states, whichever replica polled.
            for replica in (first, second):
                await until(lambda r=replica: in_step(sockets[r.url], on[r.url]))

            # One poll per interval: over a window, one replica polls, the other none,
            # and the emulator sees one status call per poll.
            calls_before = status_calls(emulator, busiest[0])
            before = [await polls(http, r) for r in (first, second)]
            for _ in range(8):
                await advance()
            after = [await polls(http, r) for r in (first, second)]
            calls = status_calls(emulator, busiest[0]) - calls_before
            made = [a - b for a, b in zip(after, before, strict=True)]
            print(f"polls by replica {made}, status calls {calls}")
            leader, follower = (first, second) if made[0] > made[1] else (second, first)
            assert min(made) == 0, made  # the follower polled nothing
            assert max(made) >= 6, made
            assert max(made) - 1 <= calls <= max(made) + 1  # one in flight at either end
            assert [await cohorts_led(http, r) for r in (leader, follower)] == [1, 0]
            for replica in (first, second):
                await until(lambda r=replica: in_step(sockets[r.url], on[r.url]), advance)

            # The leader dies: the survivor takes its polls over, its subscribers go on.
            leader.process.send_signal(signal.SIGKILL)
            leader.process.wait()
            survivors = sockets[follower.url]
            site = on[follower.url]
            before_kill = truth(site)
            polls_before_kill = await polls(http, follower)
            await until(lambda: truth(site) != before_kill, advance)
            await until(lambda: in_step(survivors, site), advance)
            took_over = await polls(http, follower) - polls_before_kill
            print(f"the survivor polled {took_over} times after the kill")
            assert took_over > 0
            assert await cohorts_led(http, follower) == 1


async def test_a_cohort_on_the_fleet_never_reaches_another_credential(
    redis_server: RedisServer, emulator: RunningEmulator
) -> None:
    """Tokens A and B on both replicas: each subscriber sees its own network only."""
    visible = {
        token: set(location_of_evses(emulator, tenant).values())
        for token, tenant in (
            (emulator.token_a, emulator.tenant_a),
            (emulator.token_b, emulator.tenant_b),
        )
    }
    assert visible[emulator.token_a] != visible[emulator.token_b]
    with replica_processes(2, emulator.url, fleet_env(redis_server)) as replicas:
        sockets = [Socket(r.url, token, None) for r in replicas for token in visible]
        async with running(sockets):
            for socket in sockets:
                expected = visible[socket.token]
                await until(lambda s=socket, e=expected: s.locations == e)
            for socket in sockets:
                assert socket.locations == visible[socket.token]


@pytest.mark.parametrize("outage", ["hung", "down"])
async def test_without_redis_each_replica_polls_for_itself_then_one_again(
    outage: str, emulator: RunningEmulator
) -> None:
    """Redis stopped mid-run: no subscriber goes without events (each replica polls for its
    own), and a new Redis on the same port brings back one poller."""
    tenant = emulator.tenant_a
    located = location_of_evses(emulator, tenant)
    site = sorted(set(located.values()))[0]

    def in_step(sockets: list[Socket]) -> bool:
        states = evse_states(emulator, tenant)
        expected = {key: state for key, state in states.items() if located[key] == site}
        return all(states == expected for s in sockets for states in s.states.values())

    with redis_process() as redis:
        env = {**fleet_env(RedisServer(redis.url)), "GATEWAY_REDIS_TIMEOUT_S": "0.3"}
        with replica_processes(2, emulator.url, env) as pair:
            sockets = [Socket(r.url, emulator.token_a, [site]) for r in pair for _ in range(2)]
            async with httpx.AsyncClient(timeout=30) as http, running(sockets):

                async def advance() -> None:
                    url = f"{emulator.url}/_emulator/clock/advance"
                    (await http.post(url, json={"steps": 1})).raise_for_status()
                    await asyncio.sleep(INTERVAL_S)

                async def window() -> list[int]:
                    before = [await polls(http, r) for r in pair]
                    for _ in range(6):
                        await advance()
                    return [await polls(http, r) - b for r, b in zip(pair, before, strict=True)]

                await until(lambda: in_step(sockets))
                assert min(await window()) == 0  # one poller

                redis.pause() if outage == "hung" else redis.kill()
                await window()  # the heartbeats notice
                alone = await window()
                print(f"{outage}: polls by replica without Redis {alone}")
                assert min(alone) > 0  # each polls for its own
                await until(lambda: in_step(sockets), advance)

                redis.kill()
                redis.start()  # a new, empty Redis on the same port
                for _ in range(10):  # the listeners reconnect, the leases are claimed again
                    again = await window()
                    if min(again) == 0:
                        break
                print(f"{outage}: polls by replica after Redis came back {again}")
                assert min(again) == 0 and max(again) > 0
                await until(lambda: in_step(sockets), advance)
