"""Pure helpers of `python -m bench side-by-side`: no network, no peer, no processes."""

from __future__ import annotations

import json

import pytest

from bench.side_by_side.check import difference
from bench.side_by_side.emulator import Reference, Station
from bench.side_by_side.loadgen import MARKER, parse_autocannon, parse_wrk, wrk_script
from bench.side_by_side.options import QUICK_CONCURRENCY, QUICK_SCENARIOS, parse_args
from bench.side_by_side.report import Cell, ratio, table
from bench.side_by_side.scenarios import Scenario, all_scenarios

REFERENCE = Reference(
    locations={"loc-b": "Harbour", "loc-a": "Arena"},
    stations={
        "loc-a": (Station("ST-1", "Arena DC 1", (("1", "Charging", "tx-1"), ("2", "Free", None))),),
        "loc-b": (),
    },
    transactions=(("tx-1", "AuthorizedNotPluggedIn"), ("tx-2", "Ended")),
)


def scenario(name: str) -> Scenario:
    return next(s for s in all_scenarios(page_size=50) if s.name == name)


def test_wrk_result_line_is_parsed():
    raw = dict(requests=1200, duration_us=2_000_000, p50_us=1500, p99_us=9000, status=2)
    raw.update(connect=0, read=1, write=0, timeout=3, bad=4)
    output = f"Running 2s test @ http://127.0.0.1:1/graphql\n{MARKER}{json.dumps(raw)}\n"
    result = parse_wrk(output)
    assert (result.requests, result.seconds, result.p50_ms, result.p99_ms) == (1200, 2.0, 1.5, 9.0)
    assert (result.non_2xx, result.socket_errors, result.bad_bodies) == (2, 4, 4)
    assert result.errors == 10
    assert result.per_second == 600


def test_autocannon_result_line_is_parsed_after_other_output():
    line = json.dumps(
        {
            "tool": "autocannon",
            "requests": 90,
            "seconds": 3.0,
            "p50_ms": 20,
            "p99_ms": 41,
            "non_2xx": 0,
            "socket_errors": 1,
            "bad_bodies": 0,
        },
        separators=(",", ":"),
    )
    result = parse_autocannon(f"Running 3s test\nnoise {{\n{line}\n")
    assert (result.tool, result.requests, result.p99_ms, result.errors) == ("autocannon", 90, 41, 1)


def test_wrk_script_embeds_bodies_verbatim_even_with_closing_brackets():
    bodies = ('{"query": "{ a }"}', '{"query": "x]]y"}')
    script = wrk_script(bodies, "tok")
    assert '[[{"query": "{ a }"}]]' in script
    assert '[=[{"query": "x]]y"}]=]' in script
    # A header key must not start a long bracket: `[ [[Authorization]] ]`, not `[[[`.
    assert "[ [[Authorization]] ] = [[Bearer tok]]" in script
    assert "[[[" not in script


def test_ratio():
    assert ratio(3.0, 2.0) == "1.50x"
    assert ratio(0, 0) == "="
    assert ratio(1, 0) == "inf"
    assert ratio(None, 1.0) == "n/a"


def test_quick_preset_and_overrides():
    quick = parse_args(["--quick"])
    assert quick.scenarios == QUICK_SCENARIOS and quick.concurrency == QUICK_CONCURRENCY
    assert quick.seconds == 2.0
    custom = parse_args(["--scenarios", "s1,S6", "--concurrency", "8", "--latency-ms", "0"])
    assert custom.scenarios == ("S1", "S6")
    assert custom.concurrency == (8,)
    assert custom.latency_ms == 0 and custom.seconds == 10.0


def test_both_sides_of_a_scenario_reduce_to_the_reference():
    s2 = scenario("S2")
    station = {"stationId": "ST-1", "name": "Arena DC 1"}
    ours = {
        "locations": {
            "nodes": [
                {"id": "loc-a", "name": "Arena", "stations": [station]},
                {"id": "loc-b", "name": "Harbour", "stations": None},
            ]
        }
    }
    peer = {
        "getNetworkStatus": {
            "__typename": "NetworkStatusPage",
            "paginationToken": None,
            "locations": [
                {"id": "loc-b", "name": "Harbour", "stations": []},
                {"id": "loc-a", "name": "Arena", "stations": [station]},
            ],
        }
    }
    expected = s2.expected(REFERENCE)
    assert s2.ours.canonical([ours]) == expected
    assert s2.peer is not None and s2.peer.canonical([peer]) == expected


def test_a_walk_compares_statuses_across_naming_styles():
    s6 = scenario("S6")
    ours = {"transactions": {"nodes": [{"txId": "tx-1", "status": "AUTHORIZED_NOT_PLUGGED_IN"}]}}
    ours_2 = {"transactions": {"nodes": [{"txId": "tx-2", "status": "ENDED"}]}}
    assert s6.ours.canonical([ours, ours_2]) == s6.expected(REFERENCE)


def test_a_peer_error_body_or_partial_page_is_not_the_data():
    s1, s2 = scenario("S1"), scenario("S2")
    assert s1.peer is not None and s2.peer is not None
    error = {"getLocations": {"__typename": "ErrorBody", "message": "Invalid token"}}
    with pytest.raises(ValueError, match="ErrorBody"):
        s1.peer.canonical([error])
    page = {"__typename": "NetworkStatusPage", "paginationToken": "p2", "locations": []}
    with pytest.raises(ValueError, match="paginationToken"):
        s2.peer.canonical([{"getNetworkStatus": page}])


def test_difference_names_an_extra_and_a_missing_item():
    text = difference((("a", 1), ("c", 3)), (("a", 1), ("b", 2)))
    assert "2 items, expected 2" in text
    assert "unexpected ('c', 3)" in text and "missing ('b', 2)" in text


def test_table_has_a_ratio_row_only_when_both_sides_ran():
    cells = [
        Cell("S1", "t", "ours", 16, "ok", units_per_s=200.0, p50_ms=10.0, calls_alone=1, errors=0),
        Cell("S1", "t", "peer", 16, "ok", units_per_s=100.0, p50_ms=20.0, calls_alone=1, errors=0),
        Cell("S4", "t", "ours", 16, "ok", units_per_s=50.0, errors=0),
        Cell("S4", "t", "peer", 16, "n/a", "no summary"),
    ]
    lines = table(cells).splitlines()
    ratio_rows = [line for line in lines if "ours/peer" in line]
    assert len(ratio_rows) == 1
    assert "| 2.00x | 0.50x |" in ratio_rows[0]
    assert any("n/a: no summary" in line for line in lines)


def test_wrk_script_lines_close_their_double_quoted_strings():
    """A Lua "..." string cannot span lines: an escape lost on the way from Python (a real
    newline instead of `\\n`) would break the script, and wrk would print no result."""
    script = wrk_script(('{"query": "{ a }"}',), "tok")
    for line in script.splitlines():
        if "[[" in line or "[=" in line:
            continue  # long-bracket literals hold the bodies verbatim
        assert (line.count('"') - line.count('\\"')) % 2 == 0, line
