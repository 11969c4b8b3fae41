"""Fixtures for every test folder. Folder-specific fixtures live in their own conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import RunningEmulator, SharedServer, mounted_emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[SharedServer]:
    """One loopback uvicorn server for the run; each test mounts its own fresh emulator."""
    server = SharedServer()
    yield server
    server.close()


@pytest.fixture
def emulator(emulator_server: SharedServer) -> Iterator[RunningEmulator]:
    """A fresh ChargEye emulator on loopback: seed 7, a fixed anchor, admin endpoints on.

    `.url`, `.state`, `.config`; `.tenant_a`/`.token_a` (the CPO), `.tenant_b`/`.token_b`
    (the eMSP partner), `.tenant_c`/`.token_c` (the maintenance company).
    """
    with mounted_emulator(emulator_server) as running:
        yield running
