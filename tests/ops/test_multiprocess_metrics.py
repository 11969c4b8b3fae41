"""With several workers, `/metrics` on any of them counts the requests of all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_cli import ROOT, free_port
from tests.ops.test_health_and_metrics import samples


def worker_pids(directory: Path) -> set[str]:
    # prometheus-client names each worker's sample files after its pid: counter_<pid>.db
    return {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}


def test_workers_share_one_count_through_the_multiprocess_directory(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_CURSOR_SECRET": "shared-by-workers",
        "GATEWAY_METRICS_MULTIPROCESS_DIR": str(tmp_path),
    }
    flags = ["--port", str(port), "--workers", "2", "--upstream-url", "http://127.0.0.1:9"]
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", *flags],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        sent = 0
        # A new connection per request, until both workers have answered some.
        while len(worker_pids(tmp_path)) < 2 and sent < 500:
            answer = httpx.post(url + "/graphql", json={"query": "query Ping { __typename }"})
            assert answer.json() == {"data": {"__typename": "Query"}}
            sent += 1
        assert len(worker_pids(tmp_path)) == 2
        for _ in range(3):  # whichever worker answers, it reports the sum
            found = samples(httpx.get(url + "/metrics", timeout=5).text)
            key = ("gateway_graphql_requests_total", (("operation", "Ping"), ("outcome", "ok")))
            assert found[key] == sent
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
