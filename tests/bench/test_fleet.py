"""Pure helpers of `python -m bench scale` and `python -m bench live-fleet`: no processes."""

from __future__ import annotations

from typing import Any

import pytest

from bench.fleet import CacheCounts, cache_counts, fleet_cache_counts, metric_value, parse_env
from bench.live_fleet import Tally, assign, ideal_per_minute, pages_of, split_tag, tagged
from bench.live_fleet import parse_args as fleet_args
from bench.scale import parse_args as scale_args
from bench.scale import parse_split, wrk_script

METRICS = """\
# HELP gateway_response_cache_total Upstream reads asked of the response cache: hit or miss.
# TYPE gateway_response_cache_total counter
gateway_response_cache_total{outcome="hit"} 30.0
gateway_response_cache_total{outcome="miss"} 10.0
# HELP gateway_response_cache_created Upstream reads asked of the response cache.
gateway_response_cache_created{outcome="hit"} 1.7e+09
gateway_live_polls_total{outcome="ok",resource="status"} 12.0
gateway_live_polls_total{outcome="failed",resource="status"} 2.0
gateway_live_polls_total{outcome="ok",resource="power"} 5.0
gateway_live_cohorts 3.0
"""


def test_a_sample_is_read_by_name_and_labels():
    assert metric_value(METRICS, "gateway_live_cohorts") == 3.0
    status_ok = {"resource": "status", "outcome": "ok"}
    assert metric_value(METRICS, "gateway_live_polls_total", status_ok) == 12.0
    # Labels given are a filter; the samples that match are summed.
    assert metric_value(METRICS, "gateway_live_polls_total", {"resource": "status"}) == 14.0
    assert metric_value(METRICS, "gateway_live_polls_total") == 19.0
    # A name is matched whole: `_created` is not `_total`, and a missing one is 0.
    assert metric_value(METRICS, "gateway_response_cache_total", {"outcome": "hit"}) == 30.0
    assert metric_value(METRICS, "gateway_response_cache") == 0.0


def test_the_hit_ratio_sums_both_replicas_between_two_scrapes():
    assert cache_counts(METRICS) == CacheCounts(30.0, 10.0)
    before = [METRICS, METRICS.replace("} 30.0", "} 0.0").replace("} 10.0", "} 0.0")]
    after = [
        METRICS.replace("} 30.0", "} 60.0"),  # A: +30 hits, +0 misses
        METRICS.replace("} 30.0", "} 10.0").replace("} 10.0", "} 10.0"),  # B: +10, +10
    ]
    counts = fleet_cache_counts(before, after)
    assert counts == CacheCounts(40.0, 10.0)
    assert counts.ratio == 0.8


def test_no_reads_asked_is_no_ratio_not_zero():
    text = "gateway_live_cohorts 0.0\n"  # the cache off: no sample at all
    assert fleet_cache_counts([text, text], [text, text]).ratio is None


def test_extra_settings_are_key_value_pairs():
    assert parse_env(["GATEWAY_LIVE_FLEET=true", "A=b=c"]) == {
        "GATEWAY_LIVE_FLEET": "true",
        "A": "b=c",
    }
    with pytest.raises(ValueError):
        parse_env(["GATEWAY_LIVE_FLEET"])


def test_the_ideal_is_one_walk_per_credential_per_interval():
    assert pages_of(27, 5) == 6
    assert pages_of(0, 5) == 1  # an empty view is still one request
    assert ideal_per_minute([6, 3, 2], interval_s=1.0) == 660.0
    assert ideal_per_minute([6], interval_s=5.0) == 72.0


def test_every_replica_holds_every_credential_in_equal_shares():
    plan = assign(subscribers=1000, credentials=10, replicas=2)
    for credential in range(10):
        for replica in range(2):
            assert plan.count((credential, replica)) == 50
    assert sum(1 for _, replica in plan if replica == 0) == 500


def test_a_replica_is_known_by_its_path_prefix():
    assert split_tag("/replica-A/locations/networkStatus") == ("A", "/locations/networkStatus")
    assert split_tag("/replica-B") == ("B", "")
    assert split_tag("/locations") == (None, "/locations")
    assert split_tag("/replica-/x") == (None, "/replica-/x")


async def test_the_emulator_wrapper_strips_the_prefix_and_counts_by_replica_and_token():
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])

    tally = Tally()
    wrapper = tagged(app, tally)
    scope = {"type": "http", "path": "/replica-B/locations", "headers": []}
    await wrapper({**scope, "headers": [(b"authorization", b"Bearer t1")]}, None, None)
    await wrapper({**scope, "headers": [(b"authorization", b"Bearer t1")]}, None, None)
    await wrapper({"type": "http", "path": "/_emulator/counters", "headers": []}, None, None)
    assert seen == ["/locations", "/locations", "/_emulator/counters"]
    assert tally.calls == {("B", "t1"): 2}
    assert tally.paths == {("B", "/locations"): 2}


def test_the_wrk_script_sends_each_body_with_its_own_token_to_both_replicas():
    script = wrk_script([('{"query": "{ a }"}', "tok-1"), ('{"query": "{ b }"}', "tok-2")], [1, 2])
    assert 'local ports = { "1", "2" }' in script
    assert "[[Bearer tok-1]]" in script and "[[Bearer tok-2]]" in script
    assert '[[{"query": "{ a }"}]]' in script
    assert "thread.addr = wrk.lookup" in script


def test_the_split_line_is_read_per_replica():
    output = 'Running 3s test\nBENCH_SPLIT {"1":120,"2":118}\nBENCH_JSON {}\n'
    assert parse_split(output, ["A", "B"]) == {"A": 120, "B": 118}
    with pytest.raises(RuntimeError):
        parse_split("nothing\n", ["A", "B"])


def test_quick_presets_and_bounds():
    quick = scale_args(["--quick"])
    assert (quick.seconds, quick.warmup_seconds, quick.concurrency) == (3.0, 0.0, (16,))
    full = scale_args([])
    assert (full.seconds, full.concurrency, full.latency_ms) == (10.0, (16, 64), 20)
    with pytest.raises(SystemExit):
        scale_args(["--concurrency", "15"])  # odd: not half on each replica
    assert fleet_args(["--quick"]).seconds == 8.0
    fleet = fleet_args(["--env", "GATEWAY_LIVE_FLEET=true"])
    assert (fleet.seconds, fleet.subscribers, fleet.credentials, fleet.replicas) == (
        30.0,
        1000,
        10,
        2,
    )
    assert fleet.env == (("GATEWAY_LIVE_FLEET", "true"),)
    with pytest.raises(SystemExit):
        fleet_args(["--subscribers", "5"])  # fewer than a subscriber per credential and replica
