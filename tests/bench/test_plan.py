"""`python -m bench` with no report named runs every report with its defaults."""

from __future__ import annotations

import importlib

import pytest

bench_main = importlib.import_module("bench.__main__")


@pytest.mark.parametrize("name", sorted(bench_main.OPTIONS))
def test_every_report_with_options_takes_its_defaults(name: str) -> None:
    assert callable(bench_main.OPTIONS[name]([]))


def test_no_report_named_plans_every_report() -> None:
    assert bench_main.plan([]) == []
    assert [name for name, _ in bench_main.plan(["soak", "100", "cost"])] == ["soak", "cost"]
