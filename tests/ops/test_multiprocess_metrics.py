"""With several workers, `/metrics` on any of them counts the requests of all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict

from tests.cli.test_cli import ROOT, free_port
from tests.ops.test_health_and_metrics import samples


def pings_by_worker(directory: Path) -> dict[str, float]:
    """Ping requests each worker counted, read from its own sample file (counter_<pid>.db)."""
    found = {}
    for path in directory.glob("counter_*.db"):
        entries = MmapedDict.read_all_values_from_file(str(path))
        found[path.stem.rsplit("_", 1)[1]] = sum(
            value
            for key, value, *_ in entries
            if '"gateway_graphql_requests_total"' in key and '"Ping"' in key
        )
    return found


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
        while sum(1 for n in pings_by_worker(tmp_path).values() if n) < 2 and sent < 500:
            answer = httpx.post(url + "/graphql", json={"query": "query Ping { __typename }"})
            assert answer.json() == {"data": {"__typename": "Query"}}
            sent += 1
        assert sorted(n > 0 for n in pings_by_worker(tmp_path).values()) == [True, True]
        for _ in range(3):  # whichever worker answers, it reports the sum
            found = samples(httpx.get(url + "/metrics", timeout=5).text)
            key = ("gateway_graphql_requests_total", (("operation", "Ping"), ("outcome", "ok")))
            assert found[key] == sent
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
