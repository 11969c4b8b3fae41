"""One frozen `Settings` object, built once at the edge (CLI or environment)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ENV_PREFIX = "GATEWAY_"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Gateway settings. Every field can be set as GATEWAY_<FIELD_NAME_IN_CAPS>."""

    host: str = "127.0.0.1"  # loopback unless asked
    port: int = 8000
    # Worker processes of `serve` (each with its own event loop, pool and caches).
    workers: int = 1
    upstream_url: str = "http://127.0.0.1:8001"
    # Upstream calls: each one is bounded, and so is the whole GraphQL request.
    upstream_timeout_s: float = 10.0
    upstream_connect_timeout_s: float = 3.0
    upstream_max_connections: int = 100
    upstream_max_concurrency: int = 32
    upstream_retry_attempts: int = 3
    request_deadline_s: float = 30.0
    # The largest upstream answer read (larger ones are refused, never held whole).
    upstream_max_body_bytes: int = 8 * 1024 * 1024
    # The HTTP transport under the upstream client: "aiohttp" (fast) or "httpx" (httpcore).
    upstream_transport: str = "aiohttp"
    # Circuit breaker per upstream operation: consecutive failed attempts that open it
    # (0: never), and how long it then fails calls fast before one probe goes through.
    upstream_circuit_failure_threshold: int = 10
    upstream_circuit_open_s: float = 15.0
    # GraphQL limits.
    max_page_size: int = 200
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_tokens: int = 5000
    max_root_fields: int = 20
    max_upstream_cost: int = 500
    # Upstream calls one request may make before it is stopped (0: the cost limit).
    max_upstream_calls: int = 0
    # Pages one network status walk may read (whole-network views walk every page).
    max_walk_pages: int = 100
    # Rows per upstream page the cost estimate and list walks take (ChargEye does not say).
    upstream_page_size: int = 50
    max_entities: int = 100
    # Distinct documents kept parsed, validated and analysed (least recently used go).
    document_cache_size: int = 1000
    # Run cached queries from compiled plans (off: graphql-core runs every field).
    compiled_plans: bool = True
    # How long an idempotency key of `createLocation` is remembered.
    idempotency_window_s: float = 24 * 3600
    max_body_bytes: int = 1_000_000
    # Connections and clients: none may hold the server's sockets or workers for long.
    max_connections: int = 2000
    max_requests_in_flight: int = 500
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    # Past the 5 s idle expiry of common clients (httpx, Node's agent), so that a client
    # never reuses a connection the server is closing at that very moment.
    keep_alive_timeout_s: int = 20
    shutdown_timeout_s: int = 30
    graphiql: bool = True
    # Cursor HMAC key. A random one per process is safe but makes cursors die on restart
    # and differ between replicas: set it explicitly when running more than one process.
    cursor_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # HTTP surface.
    cors_origins: tuple[str, ...] = ()
    compress_min_bytes: int = 1024
    log_level: str = "info"
    # `json` (one object per line, for log shippers) or `text` (for a terminal; the demo's).
    log_format: str = "json"
    # OpenTelemetry: `off`, `console` or `otlp` (needs the `otel` extra).
    tracing: str = "off"
    # With several workers: a directory they share for Prometheus multiprocess metrics.
    metrics_multiprocess_dir: str = ""
    # Lets browsers send cookies cross-origin. The gateway reads none (the token comes from
    # `Authorization` only), so this is for a fronting proxy that does; never with "*".
    cors_allow_credentials: bool = False
    live_status_interval_s: float = 5.0  # subscriptions: seconds between network status polls
    live_power_interval_s: float = 10.0  # subscriptions: seconds between power polls
    live_errors_interval_s: float = 15.0  # subscriptions: seconds between hardware error polls
    live_max_backoff_s: float = 120.0  # longest pause of a live poll after failures
    live_max_connections: int = 1000  # open WebSocket connections at once
    live_max_subscriptions_per_connection: int = 50  # operations at once on one WebSocket
    live_max_subscriptions_per_credential: int = 500  # live subscriptions of one token
    live_max_pending_events: int = 1000  # per subscriber (coalesced per EVSE or location)
    live_connection_init_timeout_s: float = 10.0  # wait for `connection_init` after upgrade
    live_keepalive_s: float = 15.0  # graphql-transport-ws pings to each connection (0: none)

    def as_env(self) -> dict[str, str]:
        """Every setting as a `GATEWAY_*` variable: how worker processes receive them."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            values[ENV_PREFIX + f.name.upper()] = text
        return values

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from `GATEWAY_*` variables; explicit overrides win."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _PARSERS.get(_type_name(f.type), str)(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _type_name(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "str")


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _parse_tuple(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "bool": _parse_bool,
    "str": str,
    "tuple[str, ...]": _parse_tuple,
}
