"""`UpstreamClient` against a scripted transport: wire format, errors, retries, bounds."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from gateway.errors import (
    Forbidden,
    GatewayError,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamProtocolError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.upstream import RetryPolicy, UpstreamClient, build_http_client, contract
from gateway.upstream.models import LocationInput, TechnicalFailClassification
from tests.client.conftest import BASE_URL, FAST, ScriptedUpstream, json_reply

LOCATIONS = {"locations": [{"id": "loc-1", "name": "Depot"}, {"id": "loc-2"}]}
TOKEN = "tenant-a-token"


# --- credentials ---------------------------------------------------------------------------


async def test_token_is_sent_per_call_and_the_shared_client_holds_none(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(json_reply(LOCATIONS))
    client = upstream.client()
    await client.list_locations(token="token-a")
    await client.list_locations(token="token-b")
    assert [r.headers["Authorization"] for r in upstream.requests] == [
        "Bearer token-a",
        "Bearer token-b",
    ]
    assert "authorization" not in upstream.http.headers


async def test_a_shared_client_with_credentials_is_refused() -> None:
    async with httpx.AsyncClient(headers={"Authorization": "Bearer shared"}) as http:
        with pytest.raises(ValueError, match="credentials"):
            UpstreamClient(http, BASE_URL)
    async with httpx.AsyncClient(auth=("user", "pass")) as http:
        with pytest.raises(ValueError, match="credentials"):
            UpstreamClient(http, BASE_URL)


@pytest.mark.parametrize("token", ["", "two\nlines", "tab\there", " padded", "naïve"])
async def test_a_missing_or_malformed_token_fails_before_any_call(
    upstream: ScriptedUpstream, token: str
) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await upstream.client().list_locations(token=token)
    assert upstream.requests == []
    if token.strip():
        assert token.strip() not in caught.value.message


async def test_cookies_never_travel_between_callers(upstream: ScriptedUpstream) -> None:
    upstream.http.cookies.set("session", "tenant-a-cookie", domain="127.0.0.1")
    upstream.reply(json_reply(LOCATIONS))
    await upstream.client().list_locations(token=TOKEN)
    assert "cookie" not in upstream.last.headers


async def test_the_built_client_stores_no_cookies_and_has_explicit_bounds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json=LOCATIONS, headers={"Set-Cookie": "sid=abc; Path=/"})

    seen: list[str | None] = []
    http = build_http_client(
        timeout_s=3.0,
        connect_timeout_s=0.5,
        max_connections=7,
        transport=httpx.MockTransport(handler),
    )
    async with http:
        assert http.timeout == httpx.Timeout(3.0, connect=0.5)
        assert not http.follow_redirects
        await http.get(BASE_URL + "/locations")
        await http.get(BASE_URL + "/locations")
        assert len(http.cookies) == 0
    assert seen == [None, None]


# --- every operation: method, path, parameters, decoding -------------------------------------


async def test_refresh_access_token_sends_the_refresh_token_as_bearer(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(json_reply({"token": "jwt-1", "validUntil": "2021-03-29T14:35:01.000Z"}))
    token = await upstream.client().refresh_access_token("refresh-secret")
    assert token.token == "jwt-1"
    assert token.valid_until == datetime(2021, 3, 29, 14, 35, 1, tzinfo=UTC)
    assert upstream.last.method == "GET"
    assert upstream.last.url.path == "/api/auth/refreshAccessToken"
    assert upstream.last.headers["Authorization"] == "Bearer refresh-secret"


async def test_list_and_get_locations(upstream: ScriptedUpstream) -> None:
    client = upstream.client()
    upstream.reply(json_reply(LOCATIONS))
    rows = await client.list_locations(token=TOKEN)
    assert [row.id for row in rows] == ["loc-1", "loc-2"]
    assert upstream.last.url.path == "/api/locations"

    upstream.reply(json_reply({"location": {"id": "a b?c#d%2F", "name": "Odd"}}))
    row = await client.get_location("a b?c#d%2F", token=TOKEN)
    assert row.name == "Odd"
    assert upstream.last.url.raw_path == b"/api/locations/a%20b%3Fc%23d%252F"
    assert upstream.params() == []


@pytest.mark.parametrize("body", [{}, {"location": None}])
async def test_an_empty_get_answer_means_not_found(
    upstream: ScriptedUpstream, body: dict[str, Any]
) -> None:
    upstream.reply(json_reply(body))
    with pytest.raises(NotFound) as caught:
        await upstream.client().get_location("hidden", token=TOKEN)
    assert (caught.value.kind, caught.value.key) == ("Location", "hidden")


@pytest.mark.parametrize("uid", ["", ".", "..", "../stations", "a/b", "a\\b", "a\nb"])
async def test_uids_that_would_change_the_path_are_not_found_without_a_call(
    upstream: ScriptedUpstream, uid: str
) -> None:
    with pytest.raises(NotFound):
        await upstream.client().get_location(uid, token=TOKEN)
    assert upstream.requests == []


async def test_create_location_posts_the_body_and_returns_the_new_id(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(json_reply({"id": "new-1", "success": True}))
    new_id = await upstream.client().create_location(
        LocationInput(name="Depot", city=None), token=TOKEN, station_id="st-1"
    )
    assert new_id == "new-1"
    request = upstream.last
    assert (request.method, request.url.path) == ("POST", "/api/locations")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "location": {"name": "Depot", "city": None},
        "stationId": "st-1",
    }


async def test_update_location_patches_only_the_given_fields(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({"success": True}))
    await upstream.client().update_location(
        "loc-1", LocationInput(postal_code=None, name="N"), token=TOKEN
    )
    request = upstream.last
    assert (request.method, request.url.path) == ("PATCH", "/api/locations/loc-1")
    assert json.loads(request.content) == {"location": {"postalCode": None, "name": "N"}}


@pytest.mark.parametrize(
    "answer", [{"success": False}, {}, {"success": True}, {"id": "", "success": True}]
)
async def test_a_create_without_success_and_id_is_rejected(
    upstream: ScriptedUpstream, answer: dict[str, Any]
) -> None:
    upstream.reply(json_reply(answer))
    with pytest.raises(UpstreamRejected):
        await upstream.client().create_location(LocationInput(name="x"), token=TOKEN)


@pytest.mark.parametrize("answer", [{"success": False}, {}, {"success": "yes"}])
async def test_an_update_without_success_is_rejected_or_a_protocol_error(
    upstream: ScriptedUpstream, answer: dict[str, Any]
) -> None:
    upstream.reply(json_reply(answer))
    with pytest.raises(UpstreamRejected if "yes" not in answer.values() else UpstreamProtocolError):
        await upstream.client().update_location("loc", LocationInput(name="x"), token=TOKEN)


async def test_location_stations(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({"stations": [{"stationId": "st-1", "name": "A"}]}))
    stations = await upstream.client().location_stations("loc-1", token=TOKEN)
    assert [s.station_id for s in stations] == ["st-1"]
    assert upstream.last.url.path == "/api/locations/loc-1/stations"


async def test_network_status_page_sends_filter_and_token(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({"locations": [{"id": "loc-1"}], "paginationToken": "p2"}))
    page = await upstream.client().network_status_page(
        token=TOKEN, location_uids=["loc-1", "loc-2", "loc-1"], page_token="p1"
    )
    assert [row.id for row in page.rows] == ["loc-1"] and page.next_token == "p2"
    assert upstream.last.url.path == "/api/locations/networkStatus"
    assert upstream.params() == [
        ("locationUids", "loc-1"),
        ("locationUids", "loc-2"),
        ("paginationToken", "p1"),
    ]


async def test_comma_array_encoding_is_one_switch_in_the_contract(
    upstream: ScriptedUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "ARRAY_ENCODING", "comma")
    upstream.reply(json_reply({"locations": []}))
    await upstream.client().currently_used_power(token=TOKEN, location_uids=["a", "b"])
    assert upstream.params() == [("locationUids", "a,b")]


@pytest.mark.parametrize("last", [None, ""])
async def test_a_null_or_empty_pagination_token_ends_the_walk(
    upstream: ScriptedUpstream, last: str | None
) -> None:
    upstream.reply(json_reply({"errors": [], "paginationToken": last}))
    page = await upstream.client().hardware_errors_page(token=TOKEN)
    assert page.next_token is None
    assert upstream.last.url.path == "/api/locations/networkHardwareErrors"
    assert upstream.params() == []


async def test_window_parameters_go_out_as_utc_with_z(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({"sessions": [], "paginationToken": None}))
    helsinki = timezone(timedelta(hours=3))
    await upstream.client().problematic_sessions_page(
        token=TOKEN,
        start=datetime(2024, 6, 1, 3, 0, tzinfo=helsinki),
        end=datetime(2024, 6, 2, tzinfo=UTC),
    )
    assert upstream.last.url.path == "/api/locations/problematicSessions"
    assert upstream.params() == [
        ("startDate", "2024-06-01T00:00:00.000Z"),
        ("endDate", "2024-06-02T00:00:00.000Z"),
    ]


async def test_naive_window_datetimes_are_refused(upstream: ScriptedUpstream) -> None:
    with pytest.raises(ValueError, match="naive"):
        await upstream.client().problematic_sessions_page(token=TOKEN, start=datetime(2024, 1, 1))


async def test_network_transactions_filters(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({"transactions": [{"txId": "t1"}], "paginationToken": "n"}))
    page = await upstream.client().network_transactions_page(
        token=TOKEN,
        location_uids=["loc-1"],
        classifications=[TechnicalFailClassification.LOW_POWER, TechnicalFailClassification.OK],
        page_token="c",
    )
    assert page.rows[0].tx_id == "t1" and page.next_token == "n"
    assert upstream.last.url.path == "/api/locations/networkTransactions"
    assert upstream.params() == [
        ("locationUids", "loc-1"),
        ("technicalFailClassification", "LOW_POWER"),
        ("technicalFailClassification", "OK"),
        ("paginationToken", "c"),
    ]
    with pytest.raises(ValueError, match="UNKNOWN"):
        await upstream.client().network_transactions_page(
            token=TOKEN, classifications=[TechnicalFailClassification.UNKNOWN]
        )


async def test_empty_filters_match_nothing_without_a_call(upstream: ScriptedUpstream) -> None:
    client = upstream.client()
    assert (await client.network_status_page(token=TOKEN, location_uids=[])).rows == ()
    assert (await client.hardware_errors_page(token=TOKEN, location_uids=())).rows == ()
    assert (await client.problematic_sessions_page(token=TOKEN, location_uids=[])).rows == ()
    assert (await client.network_transactions_page(token=TOKEN, classifications=[])).rows == ()
    assert await client.currently_used_power(token=TOKEN, location_uids=[]) == ()
    assert await client.list_stations(token=TOKEN, station_ids=[]) == ()
    assert upstream.requests == []


async def test_a_bare_string_is_not_taken_for_a_list_of_ids(upstream: ScriptedUpstream) -> None:
    with pytest.raises(TypeError):
        await upstream.client().network_status_page(token=TOKEN, location_uids="loc-1")
    assert upstream.requests == []


async def test_paged_calls_refuse_more_ids_than_one_call_may_carry(
    upstream: ScriptedUpstream,
) -> None:
    uids = [f"loc-{i}" for i in range(contract.MAX_IDS_PER_CALL + 1)]
    with pytest.raises(ValueError, match="at most"):
        await upstream.client().network_status_page(token=TOKEN, location_uids=uids)


async def test_long_id_lists_are_split_for_unpaged_calls(upstream: ScriptedUpstream) -> None:
    async def echo(request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get_list("stationIds")
        return json_reply({"stations": [{"stationId": i} for i in ids]})

    upstream.reply(echo)
    ids = [f"st-{i}" for i in range(contract.MAX_IDS_PER_CALL * 2 + 5)]
    stations = await upstream.client().list_stations(
        token=TOKEN, station_ids=ids, location_uid="loc"
    )
    assert [s.station_id for s in stations] == ids
    assert len(upstream.requests) == 3
    assert all(r.url.params["locationUid"] == "loc" for r in upstream.requests)
    assert upstream.requests[0].url.path == "/api/stations"


async def test_currently_used_power(upstream: ScriptedUpstream) -> None:
    upstream.reply(
        json_reply(
            {"locations": [{"locationUid": "loc-1", "currentPowerKw": 42.5, "sessionCount": 2}]}
        )
    )
    rows = await upstream.client().currently_used_power(token=TOKEN)
    assert (rows[0].location_uid, rows[0].current_power_kw, rows[0].session_count) == (
        "loc-1",
        42.5,
        2,
    )
    assert upstream.last.url.path == "/api/locations/currentlyUsedPower"
    assert upstream.params() == []


async def test_iter_walks_pages_lazily(upstream: ScriptedUpstream) -> None:
    upstream.reply(
        json_reply({"locations": [{"id": "a"}, {"id": "b"}], "paginationToken": "p2"}),
        json_reply({"locations": [{"id": "c"}], "paginationToken": None}),
    )
    client = upstream.client()
    rows = client.iter_rows(client.network_status_page, token=TOKEN)
    assert (await anext(rows)).id == "a"
    assert (await anext(rows)).id == "b"
    assert len(upstream.requests) == 1
    assert (await anext(rows)).id == "c"
    assert len(upstream.requests) == 2
    assert upstream.params() == [("paginationToken", "p2")]
    await rows.aclose()


# --- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, UpstreamRejected),
        (401, Unauthenticated),
        (403, Forbidden),
        (404, NotFound),
        (409, UpstreamRejected),
        (422, UpstreamRejected),
        (429, RateLimited),
        (500, UpstreamUnavailable),
        (502, UpstreamUnavailable),
        (503, UpstreamUnavailable),
        (504, UpstreamUnavailable),
        (302, UpstreamProtocolError),
    ],
)
async def test_status_codes_map_to_typed_errors(
    upstream: ScriptedUpstream, status: int, error: type[GatewayError]
) -> None:
    secret_body = {"message": "internal detail: db password"}
    upstream.reply(json_reply(secret_body, status=status))
    client = upstream.client(policy=RetryPolicy(max_attempts=1))
    with pytest.raises(error) as caught:
        await client.get_location("loc-1", token=TOKEN)
    message = caught.value.message
    assert "db password" not in message and TOKEN not in message
    if status != 404:
        assert str(status) in message
    if status == 404:
        assert isinstance(caught.value, NotFound) and caught.value.key == "loc-1"


async def test_rate_limited_carries_retry_after_seconds(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({}, status=429, **{"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        await upstream.client().list_locations(token=TOKEN)
    assert caught.value.retry_after_s == 30.0
    assert caught.value.extensions() == {"code": "RATE_LIMITED", "retryAfterSeconds": 30.0}
    assert len(upstream.requests) == 1  # 30 s is beyond max_retry_after_s: no retry


async def test_rate_limited_accepts_an_http_date(upstream: ScriptedUpstream) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    http_date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    upstream.reply(json_reply({}, status=429, **{"Retry-After": http_date}))
    with pytest.raises(RateLimited) as caught:
        await upstream.client().list_locations(token=TOKEN)
    assert caught.value.retry_after_s is not None
    assert 100 < caught.value.retry_after_s <= 120


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"",
        b'{"locations": [{"id": 7}]}',
        b'{"locations": 3}',
        b"[]",
    ],
)
async def test_non_json_or_mis_shaped_bodies_are_protocol_errors(
    upstream: ScriptedUpstream, body: bytes
) -> None:
    upstream.reply(httpx.Response(200, content=body))
    with pytest.raises(UpstreamProtocolError) as caught:
        await upstream.client().list_locations(token=TOKEN)
    assert caught.value.operation == "getLocations"
    assert "html" not in caught.value.message and "locations" not in caught.value.message
    assert len(upstream.requests) == 1  # a protocol error is not retried


async def test_transport_errors_map_and_never_leak_the_url(upstream: ScriptedUpstream) -> None:
    upstream.reply(httpx.ConnectError("connect failed to http://127.0.0.1:9/api?secret=1"))
    with pytest.raises(UpstreamUnavailable) as caught:
        await upstream.client().list_locations(token=TOKEN)
    assert "secret" not in caught.value.message
    assert len(upstream.requests) == FAST.max_attempts


async def test_a_dropped_connection_is_unavailable(upstream: ScriptedUpstream) -> None:
    upstream.reply(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    with pytest.raises(UpstreamUnavailable):
        await upstream.client(policy=RetryPolicy(max_attempts=1)).list_locations(token=TOKEN)


async def test_a_read_timeout_is_an_upstream_timeout_and_not_retried(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(httpx.ReadTimeout("read timed out"))
    with pytest.raises(UpstreamTimeout):
        await upstream.client().list_locations(token=TOKEN)
    assert len(upstream.requests) == 1


async def test_read_timeouts_are_retried_when_the_policy_says_so(
    upstream: ScriptedUpstream,
) -> None:
    upstream.reply(httpx.ReadTimeout("slow"), json_reply(LOCATIONS))
    policy = RetryPolicy(base_delay_s=0.001, retry_read_timeouts=True)
    assert len(await upstream.client(policy=policy).list_locations(token=TOKEN)) == 2
    assert len(upstream.requests) == 2


async def test_a_connect_timeout_is_retried(upstream: ScriptedUpstream) -> None:
    upstream.reply(httpx.ConnectTimeout("no answer"), json_reply(LOCATIONS))
    assert len(await upstream.client().list_locations(token=TOKEN)) == 2
    assert len(upstream.requests) == 2


async def test_failures_are_logged_with_operation_and_status_but_no_token(
    upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    upstream.reply(json_reply({}, status=503))
    with (
        caplog.at_level(logging.WARNING, logger="gateway.upstream"),
        pytest.raises(UpstreamUnavailable),
    ):
        await upstream.client().list_locations(token=TOKEN)
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.upstream"]
    assert len(lines) == FAST.max_attempts
    assert all("getLocations" in line and "503" in line and " ms" in line for line in lines)
    assert not any(TOKEN in line for line in lines)


# --- retries ---------------------------------------------------------------------------------


async def test_a_get_is_retried_after_a_503_and_returns_data(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({}, status=503), json_reply(LOCATIONS))
    rows = await upstream.client().list_locations(token=TOKEN)
    assert [row.id for row in rows] == ["loc-1", "loc-2"]
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("status", [429, 502, 504])
async def test_other_transient_statuses_are_retried(
    upstream: ScriptedUpstream, status: int
) -> None:
    upstream.reply(json_reply({}, status=status), json_reply(LOCATIONS))
    await upstream.client().list_locations(token=TOKEN)
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 500])
async def test_definite_answers_are_not_retried(upstream: ScriptedUpstream, status: int) -> None:
    upstream.reply(json_reply({}, status=status))
    with pytest.raises(GatewayError):
        await upstream.client().list_locations(token=TOKEN)
    assert len(upstream.requests) == 1


async def test_retries_are_capped(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({}, status=503))
    client = upstream.client(policy=RetryPolicy(max_attempts=4, base_delay_s=0.001))
    with pytest.raises(UpstreamUnavailable):
        await client.list_locations(token=TOKEN)
    assert len(upstream.requests) == 4


async def test_a_short_retry_after_is_honoured(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({}, status=429, **{"Retry-After": "0.05"}), json_reply(LOCATIONS))
    started = time.monotonic()
    await upstream.client(policy=RetryPolicy(base_delay_s=0.001)).list_locations(token=TOKEN)
    assert time.monotonic() - started >= 0.05
    assert len(upstream.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        json_reply({}, status=503),
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no answer"),
        httpx.RemoteProtocolError("dropped"),
    ],
)
async def test_writes_are_sent_exactly_once(
    upstream: ScriptedUpstream, failure: httpx.Response | Exception
) -> None:
    upstream.reply(failure, json_reply({"id": "dup", "success": True}))
    client = upstream.client()
    with pytest.raises(GatewayError) as created:
        await client.create_location(LocationInput(name="x"), token=TOKEN)
    assert len(upstream.requests) == 1
    assert "may or may not" in created.value.message

    upstream.requests.clear()
    upstream.reply(failure, json_reply({"success": True}))
    with pytest.raises(GatewayError):
        await client.update_location("loc", LocationInput(name="x"), token=TOKEN)
    assert len(upstream.requests) == 1


# --- deadline and concurrency ----------------------------------------------------------------


async def test_a_passed_deadline_fails_without_a_call(upstream: ScriptedUpstream) -> None:
    with pytest.raises(UpstreamTimeout):
        await upstream.client().list_locations(token=TOKEN, deadline=time.monotonic() - 1)
    assert upstream.requests == []


async def test_the_deadline_cuts_a_slow_call_short(upstream: ScriptedUpstream) -> None:
    answered = False

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        await asyncio.sleep(5)
        answered = True
        return json_reply(LOCATIONS)

    upstream.reply(slow)
    with pytest.raises(UpstreamTimeout, match="deadline"):
        await upstream.client().list_locations(token=TOKEN, deadline=time.monotonic() + 0.1)
    assert not answered  # cut off in flight, not waited for
    assert len(upstream.requests) == 1


async def test_no_backoff_sleeps_past_the_deadline(upstream: ScriptedUpstream) -> None:
    upstream.reply(json_reply({}, status=503, **{"Retry-After": "1"}))
    policy = RetryPolicy(max_retry_after_s=5.0)
    # Had it slept the second asked for, the deadline would have passed before the retry
    # and the error would be a timeout; the 503 itself means it gave up at once.
    with pytest.raises(UpstreamUnavailable):
        await upstream.client(policy=policy).list_locations(
            token=TOKEN, deadline=time.monotonic() + 0.3
        )
    assert len(upstream.requests) == 1


async def test_concurrency_is_bounded(upstream: ScriptedUpstream) -> None:
    in_flight = 0
    peak = 0

    async def tracked(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return json_reply(LOCATIONS)

    upstream.reply(tracked)
    client = upstream.client(max_concurrency=2)
    await asyncio.gather(*(client.list_locations(token=TOKEN) for _ in range(8)))
    assert len(upstream.requests) == 8
    assert peak == 2
