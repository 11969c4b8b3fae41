"""Gateway replicas as real processes (`python -m gateway serve`) on loopback ports, each
stopped by its own PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.scale.redis_process import free_port

ROOT = Path(__file__).resolve().parents[2]
# The same secret on every replica, so that a cursor from one is good on the others.
CURSOR_SECRET = "scale-test-cursor-secret-not-a-real-one"


@dataclass(frozen=True)
class Replica:
    url: str  # http://127.0.0.1:port
    process: subprocess.Popen[bytes]


@contextmanager
def replicas(count: int, upstream_url: str, env: Mapping[str, str]) -> Iterator[list[str]]:
    """`count` gateway processes with the same settings; yields their base URLs."""
    with replica_processes(count, upstream_url, env) as running:
        yield [replica.url for replica in running]


@contextmanager
def replica_processes(
    count: int, upstream_url: str, env: Mapping[str, str]
) -> Iterator[list[Replica]]:
    """As `replicas`, with each process, for a test that kills one."""
    ports = [free_port() for _ in range(count)]
    base = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GATEWAY_UPSTREAM_URL": upstream_url,
        "GATEWAY_CURSOR_SECRET": CURSOR_SECRET,
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_GRAPHIQL": "false",
        **env,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
            cwd=ROOT,
            env=base,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        running = [
            Replica(f"http://127.0.0.1:{port}", process)
            for port, process in zip(ports, processes, strict=True)
        ]
        for replica in running:
            wait_until_healthy(replica.url, replica.process)
        yield running
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_healthy(
    url: str,
    process: subprocess.Popen[bytes],
    *,
    route: str = "/healthz",
    why_exited: Callable[[], str] | None = None,
) -> None:
    """Until `url + route` answers 200; fails at once if `process` exits first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = why_exited() if why_exited is not None else f"code {process.returncode}"
            raise RuntimeError(f"the process serving {url} exited: {detail}")
        try:
            if httpx.get(url + route, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url}{route} did not come up")
