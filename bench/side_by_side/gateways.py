"""The two gateways under test, each started as its own process against the emulator.

- ours: `python -m gateway serve`, one uvicorn process, access log off (level warning).
- peer: Hive Gateway serving a supergraph that GraphQL Mesh Compose builds from
  docs/upstream/locations-openapi.yaml, with the endpoint pointed at the emulator and the
  caller's Authorization header forwarded (bench/peer/*.config.mjs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.side_by_side.processes import Service, free_port, pinned, wait_for_graphql

REPO = Path(__file__).resolve().parents[2]
PEER_DIR = REPO / "bench" / "peer"
PEER_SUPERGRAPH = "build/supergraph.graphql"  # relative to PEER_DIR; build/ is git-ignored
PEER_PACKAGES = (
    "@graphql-hive/gateway",
    "@graphql-hive/gateway-runtime",
    "@graphql-mesh/compose-cli",
    "@omnigraph/openapi",
    "graphql",
    "autocannon",
)
OUR_PACKAGES = ("chargeye-gateway", "strawberry-graphql", "uvicorn", "starlette", "httpx")
CURSOR_SECRET = "bench-side-by-side"  # not a secret: fixed so the walk's cursors replay


@dataclass
class Gateway:
    name: str
    url: str
    service: Service
    versions: dict[str, str] = field(default_factory=dict)


def our_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for package in OUR_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    return versions


def peer_versions() -> dict[str, str]:
    versions = {"node": node_version()}
    for package in PEER_PACKAGES:
        manifest = PEER_DIR / "node_modules" / package / "package.json"
        try:
            versions[package] = json.loads(manifest.read_text())["version"]
        except (OSError, ValueError, KeyError):
            versions[package] = "?"
    return versions


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "missing"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


def ensure_peer_installed() -> None:
    """`npm ci` in bench/peer when node_modules is missing or older than the lock."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("the peer needs Node.js 20+ and npm on PATH")
    stamp = PEER_DIR / "node_modules" / ".package-lock.json"
    lock = PEER_DIR / "package-lock.json"
    manifest = PEER_DIR / "package.json"
    if stamp.exists() and stamp.stat().st_mtime >= max(
        lock.stat().st_mtime, manifest.stat().st_mtime
    ):
        return
    print("installing the peer: npm ci in bench/peer (about two minutes) ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)
    stamp.touch()


def compose_peer(upstream_url: str) -> Path:
    """Mesh Compose the contract into the supergraph, endpoint = the running emulator."""
    supergraph = PEER_DIR / PEER_SUPERGRAPH
    supergraph.parent.mkdir(exist_ok=True)  # mesh-compose does not create it
    supergraph.unlink(missing_ok=True)  # so a failed compose cannot leave an old one
    env = {**os.environ, "BENCH_UPSTREAM_URL": upstream_url, "BENCH_SUPERGRAPH": PEER_SUPERGRAPH}
    result = subprocess.run(
        [str(PEER_DIR / "node_modules" / ".bin" / "mesh-compose")],
        cwd=PEER_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not supergraph.exists():
        raise RuntimeError(f"mesh-compose failed:\n{result.stdout}\n{result.stderr}")
    return supergraph


@contextmanager
def running_ours(upstream_url: str, core: int | None, logs: Path) -> Iterator[Gateway]:
    port = free_port()
    command = [
        sys.executable, "-m", "gateway", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--upstream-url", upstream_url,
    ]  # fmt: skip
    env = {
        **os.environ,
        "GATEWAY_CURSOR_SECRET": CURSOR_SECRET,
        # uvicorn's access log at info would cost a line of formatting per request;
        # Hive Gateway logs no requests by default either.
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_GRAPHIQL": "false",
    }
    url = f"http://127.0.0.1:{port}/graphql"
    log = logs / "ours.log"
    with Service("our gateway", pinned(command, core), cwd=REPO, env=env, log=log) as service:
        wait_for_graphql(service, url)
        yield Gateway("ours", url, service, our_versions())


@contextmanager
def running_peer(upstream_url: str, core: int | None, logs: Path) -> Iterator[Gateway]:
    compose_peer(upstream_url)
    port = free_port()
    command = [
        str(PEER_DIR / "node_modules" / ".bin" / "hive-gateway"),
        "supergraph", PEER_SUPERGRAPH, "--config-path", "gateway.config.mjs",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    env = {**os.environ, "NODE_ENV": "production"}
    url = f"http://127.0.0.1:{port}/graphql"
    log = logs / "peer.log"
    with Service("Hive Gateway", pinned(command, core), cwd=PEER_DIR, env=env, log=log) as service:
        wait_for_graphql(service, url)
        yield Gateway("peer", url, service, peer_versions())
