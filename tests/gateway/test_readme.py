"""Every GraphQL example in the README runs against the demo network without errors."""

from __future__ import annotations

import re
from math import ceil
from pathlib import Path

import pytest

from tests.gateway.conftest import Gateway
from tests.support import RunningEmulator

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_the_three_examples() -> None:
    names = [re.search(r"query (\w+)", example).group(1) for example in EXAMPLES]  # type: ignore[union-attr]
    assert names == ["Dashboard", "FailedSessions", "Problems"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda text: text.split("(")[0].split("{")[0])
async def test_example_runs_and_returns_data(
    gateway: Gateway, emulator: RunningEmulator, example: str
) -> None:
    body = await gateway.query(example, token=emulator.token_a)
    assert "errors" not in body, body.get("errors")
    data = body["data"]
    assert all(value for value in data.values())
    first_list = next(iter(data.values()))
    if "nodes" in first_list or "edges" in first_list:
        assert first_list.get("nodes") or first_list.get("edges")


async def test_dashboard_example_costs_its_minimum(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    visible = emulator.state.network.visible_locations(emulator.tenant_a)
    emulator.state.reset()
    body = await gateway.query(EXAMPLES[0], token=emulator.token_a)
    assert "errors" not in body, body.get("errors")
    # The summary walks the whole network once; the listed sites' stations and power
    # come out of that walk and that power call instead of asking again.
    assert {op: n for op, n in emulator.state.counters.items() if n} == {
        "getLocations": 1,
        "getNetworkStatus": ceil(len(visible) / emulator.state.page_size),
        "getCurrentlyUsedPower": 1,
        "listStations": 1,
    }
