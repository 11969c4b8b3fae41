"""The retry policy's arithmetic and `Retry-After` parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.upstream import RetryPolicy, parse_retry_after

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Sat, 01 Jun 2024 12:00:07 GMT", 7.0),
        ("Sat, 01 Jun 2024 11:59:00 GMT", 0.0),  # already past: retry now
        (None, None),
        ("", None),
        ("-4", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=0.35, jitter=0.0)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.35, 0.35]


def test_jitter_only_shortens_the_wait() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=1.0, jitter=0.5, rng=lambda: 0.999)
    assert 0.5 <= policy.backoff_s(1) <= 1.0


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.1, jitter=0.0, max_retry_after_s=5.0)
    assert policy.delay_s(1, None) == 0.1
    assert policy.delay_s(1, 2.0) == 2.0
    assert policy.delay_s(1, 0.0) == 0.1  # never shorter than the backoff
    assert policy.delay_s(1, 6.0) is None  # too long to wait inside one request


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"jitter": 1.5}, {"base_delay_s": -1.0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
