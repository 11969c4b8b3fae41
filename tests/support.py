"""Test plumbing shared by every test folder: serve an ASGI app on a loopback socket, run an
emulator (on its own server, or on one shared by the whole run), and check answers against
the upstream OpenAPI contracts."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.emulator import EmulatorConfig, EmulatorState, create_emulator_app, emulator_state
from gateway.http.server import GatewayServer

CONTRACTS = Path(__file__).resolve().parent.parent / "docs" / "upstream"
# The contracts' server is https://kempower.io/api; answers are matched against it.
CONTRACT_HOST = "https://kempower.io"
CONTRACT_BASE = "/api"

# A fixed anchor, so the demo network (and every expected answer) is the same in every run.
FIXED_NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def loopback_socket() -> socket.socket:
    """A listening TCP socket on 127.0.0.1 with a port the OS picks.

    Like `socket.create_server(("127.0.0.1", 0))`, but with the protocol named: asyncio
    turns on TCP_NODELAY only for sockets whose `proto` is IPPROTO_TCP, and accepted
    sockets inherit it from here. Without it every keep-alive request stalls for the
    ~40 ms of Nagle's algorithm meeting delayed ACKs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


@asynccontextmanager
async def serving(
    app: ASGIApp, *, ws: str = "none", send_buffer: int | None = None
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a port the OS picks); yield its base URL.

    `ws="websockets-sansio"` serves WebSockets too (the live tests). `send_buffer` fixes
    the kernel's send buffer of accepted sockets (they inherit it), which otherwise grows
    to megabytes on loopback: a client that stops reading then stalls the server soon."""
    sock = loopback_socket()
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,  # leave the process's logging alone
        log_level="warning",
        access_log=False,
        ws=ws,
        lifespan="auto",
        timeout_graceful_shutdown=2,
        # Longer than httpx's 5 s keep-alive expiry: at 5 s each, a client may send on a
        # connection the server is closing just then (a ReadError under load).
        timeout_keep_alive=30,
    )
    server = GatewayServer(config)  # the CLI's: live subscriptions end as it stops
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task  # startup failed: raise its error
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.002)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class SharedServer:
    """One uvicorn server, in a background thread for a whole test run, serving whichever
    app is mounted at the moment.

    Starting and stopping uvicorn costs 0.1-0.2 s (its shutdown sleeps), which a suite
    that builds a fresh emulator for every test would pay hundreds of times. The apps
    mounted here need no lifespan; for one that does, use `serving`.
    """

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._sock = loopback_socket()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            self._dispatch,
            log_config=None,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="off",
            interface="asgi3",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,  # see `serving`
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="test-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._sock.close()
                raise RuntimeError("the shared test server did not start")
            time.sleep(0.001)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            await PlainTextResponse("nothing mounted", status_code=503)(scope, receive, send)
            return
        await app(scope, receive, send)

    @contextmanager
    def mounted(self, app: ASGIApp) -> Iterator[str]:
        """Serve `app` (alone) until the block ends; yields the base URL."""
        if self._app is not None:
            raise RuntimeError("another app is mounted on the shared server")
        self._app = app
        try:
            yield self.url
        finally:
            self._app = None

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass(frozen=True)
class RunningEmulator:
    """An emulator served on loopback, with the tokens of its first three tenants."""

    url: str
    app: Starlette
    state: EmulatorState
    config: EmulatorConfig
    tenant_a: str  # the CPO
    tenant_b: str  # the eMSP partner
    tenant_c: str  # the maintenance company
    token_a: str
    token_b: str
    token_c: str

    @classmethod
    def of(cls, url: str, app: Starlette) -> RunningEmulator:
        state = emulator_state(app)
        by_role = {tenant.role_hint: tenant.id for tenant in state.tenants}
        a, b, c = by_role["cpo"], by_role["emsp"], by_role["maintenance"]
        tokens = state.access_tokens
        return cls(url, app, state, state.config, a, b, c, tokens[a], tokens[b], tokens[c])


DEFAULT_EMULATOR = EmulatorConfig(seed=7, admin=True, now=FIXED_NOW)


@asynccontextmanager
async def running_emulator(config: EmulatorConfig | None = None) -> AsyncIterator[RunningEmulator]:
    """A fresh emulator on its own uvicorn server (default: admin on, the fixed anchor).

    For tests that need two emulators at once; one at a time is cheaper on the shared
    server (the `emulator` fixture).
    """
    app = create_emulator_app(config or DEFAULT_EMULATOR)
    async with serving(app) as url:
        yield RunningEmulator.of(url, app)


@contextmanager
def mounted_emulator(
    server: SharedServer, config: EmulatorConfig | None = None
) -> Iterator[RunningEmulator]:
    """A fresh emulator on the shared server."""
    app = create_emulator_app(config or DEFAULT_EMULATOR)
    with server.mounted(app) as url:
        yield RunningEmulator.of(url, app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- contract conformance ----------------------------------------------------------------------


def _allof_parts(node: Any, found: set[str]) -> set[str]:
    """Names of component schemas used as members of some allOf."""
    if isinstance(node, dict):
        for member in node.get("allOf", ()):
            ref = member.get("$ref", "") if isinstance(member, dict) else ""
            if ref:
                found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _allof_parts(value, found)
    elif isinstance(node, list):
        for value in node:
            _allof_parts(value, found)
    return found


def _forbid_unknown(node: Any, is_part: bool = False) -> None:
    """Add `unevaluatedProperties: false` to object schemas that do not decide otherwise.

    The contracts leave objects open, so a misspelt field would pass; closing them makes a
    field the contract does not name fail. Members of an allOf stay open: the closing is
    done by the allOf itself, which sees the properties of all its members.
    """
    if isinstance(node, dict):
        closable = "properties" in node or "allOf" in node
        if closable and not is_part and "additionalProperties" not in node:
            node.setdefault("unevaluatedProperties", False)
        for key, value in node.items():
            if key == "allOf":
                for member in value:
                    _forbid_unknown(member, is_part=True)
            elif key == "properties":
                for schema in value.values():
                    _forbid_unknown(schema)
            else:
                _forbid_unknown(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_unknown(value)


def strict_contract(path: Path) -> OpenAPI:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    parts = _allof_parts(spec, set())
    for name, schema in spec["components"]["schemas"].items():
        _forbid_unknown(schema, is_part=name in parts)
    _forbid_unknown(spec["paths"])
    return OpenAPI.from_dict(spec)


def is_transactions_path(path: str) -> bool:
    """`/chargingStations/{stationId}/transactions` or `/transactions/{txId}`."""
    parts = path.split("/")
    return (len(parts) == 3 and parts[1] == "transactions") or (
        len(parts) == 4 and parts[1] == "chargingStations" and parts[3] == "transactions"
    )


class Contract:
    """The Locations API contract and the /stations and Transactions API fragments, closed
    to unknown fields."""

    def __init__(self) -> None:
        self.locations = strict_contract(CONTRACTS / "locations-openapi.yaml")
        self.stations = strict_contract(CONTRACTS / "stations-openapi.yaml")
        self.transactions = strict_contract(CONTRACTS / "transactions-openapi.yaml")
        # Answers that passed already: the demo data is deterministic, so tests repeat many
        # answers byte for byte, and validating a large one costs tens of milliseconds.
        self._passed: set[tuple[str, ...]] = set()

    def covers(self, request: httpx.Request) -> bool:
        path = request.url.path
        return (
            path in ("/stations", "/auth/refreshAccessToken")
            or (path == "/locations" or path.startswith("/locations/"))
            or is_transactions_path(path)
        )

    def validate(self, response: httpx.Response) -> None:
        """Raise if `response` (already read) is not what the contract allows."""
        request = response.request
        key = (
            request.method,
            request.url.path,
            str(response.status_code),
            response.headers.get("content-type", ""),
            response.headers.get("retry-after", ""),
            hashlib.sha256(response.content).hexdigest(),
        )
        if key in self._passed:
            return
        path = request.url.path
        if path == "/stations":
            api = self.stations
        elif is_transactions_path(path):
            api = self.transactions
        else:
            api = self.locations
        api.validate_response(
            MockRequest(CONTRACT_HOST, request.method, CONTRACT_BASE + request.url.path),
            MockResponse(
                response.content,
                status_code=response.status_code,
                headers=dict(response.headers),
                content_type=response.headers.get("content-type", ""),
            ),
        )
        self._passed.add(key)


@cache
def contract() -> Contract:
    """Loaded once per test run: parsing the contracts takes a noticeable fraction of a second."""
    return Contract()
