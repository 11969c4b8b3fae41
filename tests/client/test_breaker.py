"""Circuit breakers per upstream operation: the state machine on its own, then through the
client against the emulator, where `state.counters` proves which calls reached it.

Time is a `FakeClock` the tests move; nothing here sleeps to let a circuit cool down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from gateway.emulator import Fault
from gateway.errors import (
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import UpstreamClient
from gateway.upstream.breaker import (
    BreakerPolicy,
    Breakers,
    CircuitBreaker,
    CircuitState,
    Verdict,
)
from gateway.upstream.models import LocationInput
from tests.client.conftest import BASE_URL, FAST, RealClientFactory, ScriptedUpstream, json_reply

THRESHOLD = 5
OPEN_S = 30.0
POLICY = BreakerPolicy(failure_threshold=THRESHOLD, open_s=OPEN_S)
TOKEN = "tenant-a-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- the state machine ---------------------------------------------------------------------


def fail(breaker: CircuitBreaker, times: int, verdict: Verdict = Verdict.UNWELL) -> None:
    for _ in range(times):
        permit = breaker.admit()
        assert permit is not None
        breaker.record(permit, verdict)


def test_it_opens_after_the_threshold_of_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    fail(breaker, THRESHOLD - 1)
    assert breaker.state is CircuitState.CLOSED
    fail(breaker, 1)
    assert breaker.state is CircuitState.OPEN
    assert breaker.admit() is None
    clock.advance(OPEN_S - 0.001)
    assert breaker.admit() is None and breaker.state == "open"


def test_a_healthy_answer_resets_the_count_and_an_unknown_one_does_not(
    clock: FakeClock,
) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    fail(breaker, THRESHOLD - 1)
    fail(breaker, 3, Verdict.UNKNOWN)  # neither counts nor resets
    assert breaker.consecutive_failures == THRESHOLD - 1
    fail(breaker, 1, Verdict.HEALTHY)
    assert breaker.consecutive_failures == 0
    fail(breaker, THRESHOLD - 1)
    assert breaker.state is CircuitState.CLOSED


def test_half_open_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    fail(breaker, THRESHOLD)
    clock.advance(OPEN_S)
    assert breaker.state is CircuitState.HALF_OPEN and breaker.would_admit()
    probe = breaker.admit()
    assert probe is not None and probe.probe
    assert breaker.admit() is None and not breaker.would_admit()  # others fail fast
    breaker.record(probe, Verdict.HEALTHY)
    assert breaker.state is CircuitState.CLOSED and breaker.consecutive_failures == 0


def test_a_failed_probe_reopens_for_another_pause(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    fail(breaker, THRESHOLD)
    clock.advance(OPEN_S)
    probe = breaker.admit()
    assert probe is not None
    breaker.record(probe, Verdict.UNWELL)
    assert breaker.state is CircuitState.OPEN
    clock.advance(OPEN_S - 0.001)
    assert breaker.admit() is None
    clock.advance(0.001)
    assert breaker.state is CircuitState.HALF_OPEN


def test_a_probe_that_learns_nothing_hands_the_probe_on(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    fail(breaker, THRESHOLD)
    clock.advance(OPEN_S)
    probe = breaker.admit()
    assert probe is not None
    breaker.record(probe, Verdict.UNKNOWN)  # e.g. a 429, or the caller was cancelled
    assert breaker.state is CircuitState.HALF_OPEN
    assert (next_probe := breaker.admit()) is not None and next_probe.probe


def test_an_attempt_admitted_before_the_opening_has_no_say_after_it(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", POLICY, clock)
    slow, slower = breaker.admit(), breaker.admit()
    assert slow is not None and slower is not None
    fail(breaker, THRESHOLD)
    breaker.record(slow, Verdict.HEALTHY)  # finished late: cannot close it
    assert breaker.state is CircuitState.OPEN
    clock.advance(OPEN_S)
    fail(breaker, 1, Verdict.HEALTHY)  # the probe closes it
    breaker.record(slower, Verdict.UNWELL)  # nor count against the new closed period
    assert breaker.consecutive_failures == 0


def test_threshold_zero_never_opens(clock: FakeClock) -> None:
    breaker = CircuitBreaker("op", BreakerPolicy(failure_threshold=0), clock)
    fail(breaker, 1000)
    assert breaker.state is CircuitState.CLOSED


@pytest.mark.parametrize("kwargs", [{"failure_threshold": -1}, {"open_s": 0.0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerPolicy(**kwargs)  # type: ignore[arg-type]


def test_breakers_are_per_operation(clock: FakeClock) -> None:
    breakers = Breakers(POLICY, clock)
    fail(breakers.of("a"), THRESHOLD)
    assert breakers.states() == {"a": CircuitState.OPEN}
    assert breakers.state_of("b") is CircuitState.CLOSED
    assert breakers.of("a") is breakers.of("a")


# --- through the client, against the emulator ----------------------------------------------


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: Any) -> Iterator[None]:
    emulator.state.reset()
    yield
    emulator.state.reset()


@pytest.fixture
async def live(
    emulator: Any, clock: FakeClock, real_client: RealClientFactory
) -> AsyncIterator[UpstreamClient]:
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=8) as http:
        yield UpstreamClient(http, emulator.url, policy=FAST, breaker=POLICY, clock=clock)


def counter(emulator: Any, operation_id: str) -> int:
    return int(emulator.state.counters[operation_id])


async def open_network_status(live: UpstreamClient, emulator: Any) -> None:
    """Persistent 503s: three attempts, then two more, and the circuit is open."""
    emulator.state.inject("getNetworkStatus", Fault(status=503), times=None)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable, match="503"):
            await live.network_status_page(token=emulator.token_a)
    assert live.circuit_states()["getNetworkStatus"] == "open"


async def test_failures_count_per_attempt_and_an_open_circuit_stops_retries(
    live: UpstreamClient, emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert FAST.max_attempts == 3 and THRESHOLD == 5
    emulator.state.inject("getNetworkStatus", Fault(status=503), times=None)
    with pytest.raises(UpstreamUnavailable, match="503"):
        await live.network_status_page(token=emulator.token_a)
    assert counter(emulator, "getNetworkStatus") == 3
    assert live.circuit_states()["getNetworkStatus"] == "closed"  # 3 failures of 5
    # Attempts four and five open the circuit; the third retry is not sent.
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="gateway.upstream"),
        pytest.raises(UpstreamUnavailable, match="503"),
    ):
        await live.network_status_page(token=emulator.token_a)
    assert counter(emulator, "getNetworkStatus") == 5
    assert live.circuit_states()["getNetworkStatus"] == "open"
    lines = [r.getMessage() for r in caplog.records]
    assert "(attempt 1 of 3); retrying" in lines[0]
    assert any("circuit opened after 5 consecutive failures" in line for line in lines)
    assert lines[-1].endswith("(attempt 2 of 3)")  # no backoff wait for a retry not sent


async def test_an_open_circuit_fails_fast_without_a_request_for_every_tenant(
    live: UpstreamClient, emulator: Any
) -> None:
    await open_network_status(live, emulator)
    reached = counter(emulator, "getNetworkStatus")
    for token in (emulator.token_a, emulator.token_b, emulator.token_a):
        with pytest.raises(UpstreamUnavailable, match="circuit is open") as caught:
            await live.network_status_page(token=token)
        assert caught.value.operation == "getNetworkStatus"
    assert counter(emulator, "getNetworkStatus") == reached  # no I/O at all
    # Other operations are not affected.
    assert await live.list_locations(token=emulator.token_a)
    states = live.circuit_states()
    assert states["getLocations"] == "closed" and states["getNetworkStatus"] == "open"
    assert set(states) >= {"getLocations", "postLocation", "getTransaction"}


async def test_a_write_to_an_open_circuit_is_not_sent(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("postLocation", Fault(status=502), times=THRESHOLD)
    for _ in range(THRESHOLD):
        with pytest.raises(UpstreamUnavailable, match="may or may not"):
            await live.create_location(LocationInput(name="x"), token=emulator.token_a)
    with pytest.raises(UpstreamUnavailable, match="not sent") as caught:
        await live.create_location(LocationInput(name="x"), token=emulator.token_a)
    assert "may or may not" not in caught.value.message
    assert counter(emulator, "postLocation") == THRESHOLD


async def test_half_open_sends_one_probe_while_concurrent_callers_fail_fast(
    live: UpstreamClient, emulator: Any, clock: FakeClock
) -> None:
    await open_network_status(live, emulator)
    emulator.state.faults.clear()  # the upstream has recovered
    reached = counter(emulator, "getNetworkStatus")
    clock.advance(OPEN_S)
    assert live.circuit_states()["getNetworkStatus"] == "half_open"
    results = await asyncio.gather(
        *(live.network_status_page(token=emulator.token_a) for _ in range(6)),
        return_exceptions=True,
    )
    answered = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, UpstreamUnavailable)]
    assert len(answered) == 1 and len(refused) == 5
    assert all("circuit is open" in error.message for error in refused)
    assert counter(emulator, "getNetworkStatus") == reached + 1  # the probe alone
    assert live.circuit_states()["getNetworkStatus"] == "closed"
    await live.network_status_page(token=emulator.token_b)  # closed: calls go through
    assert counter(emulator, "getNetworkStatus") == reached + 2


async def test_a_failed_probe_reopens_the_circuit(
    live: UpstreamClient, emulator: Any, clock: FakeClock
) -> None:
    await open_network_status(live, emulator)  # the 503s go on
    reached = counter(emulator, "getNetworkStatus")
    clock.advance(OPEN_S)
    with pytest.raises(UpstreamUnavailable, match="503"):
        await live.network_status_page(token=emulator.token_a)
    assert counter(emulator, "getNetworkStatus") == reached + 1  # the probe, not retried
    assert live.circuit_states()["getNetworkStatus"] == "open"
    with pytest.raises(UpstreamUnavailable, match="circuit is open"):
        await live.network_status_page(token=emulator.token_a)
    assert counter(emulator, "getNetworkStatus") == reached + 1


async def test_answers_a_tenant_causes_never_open_the_circuit(
    emulator: Any, clock: FakeClock, real_client: RealClientFactory
) -> None:
    calls = THRESHOLD * 3
    async with real_client(timeout_s=5.0, connect_timeout_s=1.0, max_connections=4) as http:
        client = UpstreamClient(
            http, emulator.url, policy=FAST, breaker=POLICY, clock=clock, max_body_bytes=1000
        )
        for _ in range(calls):
            with pytest.raises(NotFound):  # 404
                await client.get_location("no-such-location", token=emulator.token_a)
            with pytest.raises(Unauthenticated):  # 401
                await client.list_locations(token="not-a-token-the-emulator-minted")
            emulator.state.inject("listStations", Fault(status=429, retry_after=60))
            with pytest.raises(RateLimited):
                await client.list_stations(token=emulator.token_a)
            emulator.state.inject("getNetworkTransactions", Fault(status=400))
            with pytest.raises(UpstreamRejected):
                await client.network_transactions_page(token=emulator.token_a)
            emulator.state.inject(
                "getCurrentlyUsedPower", Fault(kind="huge", size_bytes=5000, chunked=False)
            )
            with pytest.raises(UpstreamProtocolError):  # a body over the limit
                await client.currently_used_power(token=emulator.token_a)
        assert set(client.circuit_states().values()) == {"closed"}
    for operation in ("getLocation", "getLocations", "listStations", "getCurrentlyUsedPower"):
        assert counter(emulator, operation) == calls  # every one reached the emulator


async def test_an_answer_on_purpose_breaks_a_run_of_failures(
    live: UpstreamClient, emulator: Any
) -> None:
    uid = emulator.state.network.visible_locations(emulator.tenant_a)[0].uid
    # A 500 is not retried by FAST: one attempt per call.
    emulator.state.inject("getLocation", Fault(status=500), times=THRESHOLD - 1)
    for _ in range(THRESHOLD - 1):
        with pytest.raises(UpstreamUnavailable):
            await live.get_location(uid, token=emulator.token_a)
    with pytest.raises(NotFound):
        await live.get_location("no-such-location", token=emulator.token_a)
    emulator.state.inject("getLocation", Fault(status=500), times=THRESHOLD - 1)
    for _ in range(THRESHOLD - 1):
        with pytest.raises(UpstreamUnavailable):
            await live.get_location(uid, token=emulator.token_a)
    assert live.circuit_states()["getLocation"] == "closed"
    assert counter(emulator, "getLocation") == 2 * (THRESHOLD - 1) + 1


async def test_dropped_connections_count(live: UpstreamClient, emulator: Any) -> None:
    emulator.state.inject("listStations", Fault(kind="drop"), times=None)
    with pytest.raises(UpstreamUnavailable):
        await live.list_stations(token=emulator.token_a)
    with pytest.raises(UpstreamUnavailable):
        await live.list_stations(token=emulator.token_a)
    assert counter(emulator, "listStations") == THRESHOLD
    assert live.circuit_states()["listStations"] == "open"


# --- through the client, against a scripted transport --------------------------------------


def scripted(upstream: ScriptedUpstream, clock: FakeClock) -> UpstreamClient:
    return UpstreamClient(upstream.http, BASE_URL, policy=FAST, breaker=POLICY, clock=clock)


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (json_reply({}, status=302), UpstreamProtocolError),
    ],
    ids=["timeout", "connection", "protocol"],
)
async def test_timeouts_connection_and_protocol_failures_count(
    upstream: ScriptedUpstream,
    clock: FakeClock,
    failure: httpx.Response | Exception,
    error: type[UpstreamError],
) -> None:
    upstream.reply(failure)
    client = scripted(upstream, clock)
    for _ in range(THRESHOLD):
        with pytest.raises(error):
            await client.list_locations(token=TOKEN)
        if len(upstream.requests) >= THRESHOLD:
            break
    assert client.circuit_states()["getLocations"] == "open"
    sent = len(upstream.requests)
    with pytest.raises(UpstreamUnavailable, match="circuit is open"):
        await client.list_locations(token=TOKEN)
    assert len(upstream.requests) == sent == THRESHOLD


async def test_the_callers_deadline_does_not_count(
    upstream: ScriptedUpstream, clock: FakeClock
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return json_reply({"locations": []})

    upstream.reply(hang)
    client = scripted(upstream, clock)
    for _ in range(THRESHOLD + 1):
        with pytest.raises(UpstreamTimeout, match="deadline"):
            await client.list_locations(token=TOKEN, deadline=time.monotonic() + 0.01)
    assert client.circuit_states()["getLocations"] == "closed"


async def test_a_cancelled_probe_hands_the_probe_on(
    upstream: ScriptedUpstream, clock: FakeClock
) -> None:
    upstream.reply(json_reply({}, status=503))
    client = scripted(upstream, clock)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await client.list_locations(token=TOKEN)
    assert client.circuit_states()["getLocations"] == "open"
    clock.advance(OPEN_S)

    entered = asyncio.Event()

    async def stall(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    upstream.reply(stall)
    probe = asyncio.create_task(client.list_locations(token=TOKEN))
    await entered.wait()
    with pytest.raises(UpstreamUnavailable, match="circuit is open"):
        await client.list_locations(token=TOKEN)  # the probe is in flight
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert client.circuit_states()["getLocations"] == "half_open"
    upstream.reply(json_reply({"locations": []}))
    assert await client.list_locations(token=TOKEN) == ()  # the next caller probed
    assert client.circuit_states()["getLocations"] == "closed"


async def test_breakers_can_be_turned_off(upstream: ScriptedUpstream, clock: FakeClock) -> None:
    upstream.reply(json_reply({}, status=503))
    client = UpstreamClient(
        upstream.http,
        BASE_URL,
        policy=FAST,
        breaker=BreakerPolicy(failure_threshold=0),
        clock=clock,
    )
    for _ in range(5):
        with pytest.raises(UpstreamUnavailable, match="503"):
            await client.list_locations(token=TOKEN)
    assert len(upstream.requests) == 5 * FAST.max_attempts
