"""The emulator as a separate process: start it, get a token, read its counters and data.

Tokens: the emulator prints none, and its access tokens are not reproducible in another
process (each carries a random `jti` and an HMAC under a per-process secret). Its refresh
tokens are: `TokenBook` derives them from the seed and the tenant id only. So the runner
builds the same `EmulatorState` in-process (same seed), takes the CPO tenant's refresh
token, and exchanges it at the emulator's own `GET /auth/refreshAccessToken`, as a real
ChargEye client would. That token lives 8 hours, far longer than a run.

Reference data: read straight from the emulator's REST API with that token, not from the
in-process state, whose data anchor (the current hour) could differ from the child's if a
run starts across an hour boundary.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.side_by_side.processes import Service, free_port, pinned, wait_for_http
from gateway.emulator import EmulatorConfig, EmulatorState

SEED = 7
REPO = Path(__file__).resolve().parents[2]
WALK_PAGES = 3


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str
    evses: tuple[tuple[str, str, str | None], ...]
    """(evseId, status, txId or None) in answer order."""


@dataclass(frozen=True)
class Reference:
    """What the emulator shows the benchmark's tenant, read from its REST API."""

    locations: dict[str, str]
    """Location id -> name (GET /locations)."""
    stations: dict[str, tuple[Station, ...]]
    """Location id -> its stations with EVSEs (every GET /locations/networkStatus page)."""
    transactions: tuple[tuple[str, str], ...]
    """(txId, status) of the first WALK_PAGES pages of GET /locations/networkTransactions."""


class Emulator:
    def __init__(self, service: Service, url: str) -> None:
        self.service = service
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def counters(self) -> int:
        """Upstream calls counted since the last reset, every operation together."""
        response = self.http.get("/_emulator/counters")
        response.raise_for_status()
        counts: dict[str, int] = response.json()["counts"]
        return sum(counts.values())

    def reset(self) -> None:
        self.http.post("/_emulator/reset").raise_for_status()

    def settle(self, quiet_s: float = 0.3, timeout_s: float = 15.0) -> None:
        """Wait until no upstream call arrives for `quiet_s`. When the load generator
        stops, requests in flight are dropped on the client side, but a gateway may still
        finish their upstream calls; counted after the next reset, they would be charged
        to the next check."""
        deadline = time.monotonic() + timeout_s
        last = self.counters()
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self.counters()
            if now == last:
                return
            last = now

    def access_token(self) -> str:
        """An access token of the CPO tenant (the one that sees the most of the network)."""
        state = EmulatorState(EmulatorConfig(seed=SEED))
        tenant = next(t for t in state.tenants if t.role_hint == "cpo")
        response = self.http.get(
            "/auth/refreshAccessToken",
            headers={"Authorization": f"Bearer {state.refresh_tokens[tenant.id]}"},
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token

    def reference(self, token: str) -> Reference:
        headers = {"Authorization": f"Bearer {token}"}
        listed = self.http.get("/locations", headers=headers)
        listed.raise_for_status()
        locations = {row["id"]: row.get("name") or "" for row in listed.json()["locations"]}
        stations: dict[str, tuple[Station, ...]] = {}
        for row in self._pages("/locations/networkStatus", "locations", headers, None):
            stations[row["id"]] = tuple(_station(s) for s in row.get("stations") or ())
        walk = self._pages("/locations/networkTransactions", "transactions", headers, WALK_PAGES)
        return Reference(
            locations=locations,
            stations=stations,
            transactions=tuple((row["txId"], row.get("status") or "") for row in walk),
        )

    def _pages(
        self, path: str, key: str, headers: dict[str, str], limit: int | None
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        pages = 0
        while True:
            params = {"paginationToken": token} if token else {}
            response = self.http.get(path, headers=headers, params=params)
            response.raise_for_status()
            body = response.json()
            yield from body.get(key) or ()
            pages += 1
            token = body.get("paginationToken")
            if not token or (limit is not None and pages >= limit):
                return


def _station(row: dict[str, Any]) -> Station:
    return Station(
        station_id=row["stationId"],
        name=row.get("name") or "",
        evses=tuple(
            (evse["evseId"], evse.get("status") or "", evse.get("txId"))
            for evse in row.get("evses") or ()
        ),
    )


@contextmanager
def running_emulator(latency_ms: int, page_size: int, core: int | None) -> Iterator[Emulator]:
    """`python -m gateway emulator` with the admin hooks on, on a loopback port.

    Its output is dropped: uvicorn logs every request at info (the CLI fixes the level),
    which over a full run would be a log of a million lines.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "gateway", "emulator",
        "--host", "127.0.0.1", "--port", str(port), "--seed", str(SEED),
        "--latency-ms", str(latency_ms), "--page-size", str(page_size), "--admin",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with Service("emulator", pinned(command, core), cwd=REPO) as service:
        wait_for_http(service, f"{url}/_emulator/counters")
        emulator = Emulator(service, url)
        try:
            yield emulator
        finally:
            emulator.http.close()
