"""Clients for the emulator's own tests. `http` checks every API answer against the
contract as it arrives, so most tests double as conformance tests; `raw` checks nothing."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import RunningEmulator, contract

# Loading CA certificates costs ~40 ms per client; the emulator speaks plain HTTP anyway.
_TLS = ssl.create_default_context()


@pytest.fixture
def checked() -> list[tuple[str, str, int]]:
    """(method, path, status) of every answer `http` validated against the contract."""
    return []


@pytest.fixture
async def http(
    emulator: RunningEmulator, checked: list[tuple[str, str, int]]
) -> AsyncIterator[httpx.AsyncClient]:
    rules = contract()

    async def validate(response: httpx.Response) -> None:
        if rules.covers(response.request):
            await response.aread()
            rules.validate(response)
            checked.append((response.request.method, response.url.path, response.status_code))

    hooks = {"response": [validate]}
    async with httpx.AsyncClient(
        base_url=emulator.url, event_hooks=hooks, timeout=10, verify=_TLS
    ) as client:
        yield client


@pytest.fixture
async def raw(emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client that checks nothing: for faults that break the contract on purpose, and for
    walks over thousands of rows (test_conformance validates those views page by page)."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=10, verify=_TLS) as client:
        yield client
