"""One unit of a scenario, sent alone: its answer checked, its requests kept for the load.

Before every cell each gateway answers the scenario once, on its own. The answer must be
HTTP 200 with no GraphQL error and must reduce to what the emulator's REST API shows, so a
gateway that answers errors or wrong data fast cannot win. The exact request bodies of that
unit (for a walk: each page with the cursor the previous page gave) are what the load
generator then replays.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.side_by_side.emulator import Reference
from bench.side_by_side.scenarios import Document, Scenario


@dataclass(frozen=True)
class Checked:
    bodies: tuple[str, ...]
    """The JSON bodies of one unit, in order."""
    alone_ms: float
    """Wall time of the unit sent alone."""
    problem: str | None
    """Why the answer is wrong, or None when it matches the emulator's data."""


def run_unit(
    http: httpx.Client,
    url: str,
    token: str,
    scenario: Scenario,
    document: Document,
    reference: Reference,
) -> Checked:
    variables = document.variables(reference)
    bodies: list[str] = []
    pages: list[dict[str, Any]] = []
    started = time.perf_counter()
    for page in range(scenario.pages):
        body = json.dumps({"query": document.query, "variables": variables})
        bodies.append(body)
        response = http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        problem = answer_problem(response)
        if problem is not None:
            return Checked(tuple(bodies), _ms(started), f"page {page + 1}: {problem}")
        data: dict[str, Any] = response.json()["data"]
        pages.append(data)
        if document.follow is not None and page + 1 < scenario.pages:
            variables = document.follow(data)
    alone_ms = _ms(started)
    try:
        got = document.canonical(pages)
    except (KeyError, TypeError, ValueError) as exc:
        return Checked(tuple(bodies), alone_ms, f"unexpected answer: {exc!r}"[:300])
    expected = scenario.expected(reference)
    if got != expected:
        return Checked(tuple(bodies), alone_ms, difference(got, expected))
    return Checked(tuple(bodies), alone_ms, None)


def answer_problem(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if not isinstance(body, dict) or body.get("errors") or not isinstance(body.get("data"), dict):
        return f"GraphQL errors: {json.dumps(body.get('errors'))[:300]}"
    return None


def difference(got: object, expected: object) -> str:
    """A short account of a mismatch: sizes, and the first differing item."""
    if isinstance(got, tuple) and isinstance(expected, tuple):
        extra = [item for item in got if item not in expected]
        missing = [item for item in expected if item not in got]
        first = f"; e.g. unexpected {extra[0]!r}" if extra else ""
        first += f"; e.g. missing {missing[0]!r}" if missing else ""
        if not extra and not missing:
            first = "; same items, another order"
        return f"wrong data: {len(got)} items, expected {len(expected)}{first}"[:400]
    return f"wrong data: got {got!r}, expected {expected!r}"[:400]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
