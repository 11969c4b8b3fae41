"""One frozen `Settings` object, built once at the edge (CLI or environment).

Each field carries its help text and its lower bound; from them the CLI builds one `serve`
flag per setting, the README's table is checked, and a bad value stops start-up with one
line naming the variable.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "GATEWAY_"

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("json", "text")
TRACING_MODES = ("off", "console", "otlp")
UPSTREAM_TRANSPORTS = ("aiohttp", "httpx")
REDIS_SCHEMES = ("redis", "rediss", "unix")


class SettingsError(ValueError):
    """A setting's value is unusable; the message names it as its environment variable."""


def setting(
    default: Any = MISSING,
    help: str = "",
    *,
    minimum: float | None = None,
    choices: tuple[str, ...] = (),
    flag: bool = True,
    default_factory: Any = MISSING,
) -> Any:
    """A settings field with the facts the CLI and the validation need."""
    metadata = {"help": help, "minimum": minimum, "choices": choices, "flag": flag}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata, repr=flag)
    return field(default=default, metadata=metadata, repr=flag)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Gateway settings. Every field can be set as GATEWAY_<FIELD_NAME_IN_CAPS>."""

    host: str = setting("127.0.0.1", "interface to listen on (loopback unless asked)")
    port: int = setting(8000, "TCP port to listen on (0: any free port)", minimum=0)
    workers: int = setting(
        1, "worker processes, each with its own loop, pool and caches", minimum=1
    )
    upstream_url: str = setting("http://127.0.0.1:8001", "ChargEye base URL (http or https)")
    # Upstream calls: each one is bounded, and so is the whole GraphQL request.
    upstream_timeout_s: float = setting(10.0, "seconds one upstream call may take", minimum=0.01)
    upstream_connect_timeout_s: float = setting(
        3.0, "seconds to open an upstream connection", minimum=0.01
    )
    upstream_max_connections: int = setting(100, "upstream connection pool size", minimum=1)
    upstream_max_concurrency: int = setting(32, "upstream calls in flight per process", minimum=1)
    upstream_retry_attempts: int = setting(
        3, "attempts per idempotent upstream call (1: no retry)", minimum=1
    )
    request_deadline_s: float = setting(
        30.0, "seconds a whole GraphQL request may take", minimum=0.01
    )
    upstream_max_body_bytes: int = setting(
        8 * 1024 * 1024, "largest upstream answer read; larger ones are refused", minimum=1
    )
    upstream_transport: str = setting(
        "aiohttp", "HTTP transport under the upstream client", choices=UPSTREAM_TRANSPORTS
    )
    # Circuit breaker per upstream operation.
    upstream_circuit_failure_threshold: int = setting(
        10, "consecutive failed attempts that open an operation's circuit (0: never)", minimum=0
    )
    upstream_circuit_open_s: float = setting(
        15.0, "seconds an open circuit fails fast before one probe", minimum=0.01
    )
    # GraphQL limits.
    max_page_size: int = setting(200, "largest `first` a connection accepts", minimum=1)
    max_query_depth: int = setting(12, "deepest selection a document may nest", minimum=1)
    max_aliases: int = setting(30, "aliases per document", minimum=0)
    max_query_tokens: int = setting(5000, "lexical tokens per document", minimum=1)
    max_root_fields: int = setting(20, "root fields per operation", minimum=1)
    max_upstream_cost: int = setting(
        500, "upper bound of upstream calls a document may be estimated at", minimum=1
    )
    max_upstream_calls: int = setting(
        0,
        "upstream calls one request may make before it is stopped (0: the cost limit)",
        minimum=0,
    )
    max_walk_pages: int = setting(100, "pages one whole-network status walk may read", minimum=1)
    upstream_page_size: int = setting(
        50, "rows per upstream page the estimate assumes (ChargEye does not say)", minimum=1
    )
    max_entities: int = setting(100, "representations per `_entities` call", minimum=1)
    document_cache_size: int = setting(
        1000, "documents kept parsed, validated and analysed (LRU)", minimum=0
    )
    compiled_plans: bool = setting(True, "run cached queries from compiled plans")
    idempotency_window_s: float = setting(
        24 * 3600, "seconds an idempotency key of `createLocation` is remembered", minimum=1
    )
    # State shared by replicas. A URL may carry a password: never a flag, never in `repr`.
    redis_url: str = setting(
        "",
        "Redis URL of the state replicas share (idempotency keys, rate limits); "
        "empty: kept in this process",
        flag=False,
    )
    redis_timeout_s: float = setting(
        0.5, "seconds one Redis call may take (connect, send, answer)", minimum=0.01
    )
    redis_key_prefix: str = setting(
        "gateway:", "prefix of every Redis key, so that deployments can share one Redis"
    )
    rate_limit_per_minute: float = setting(
        0, "sustained requests per minute of one credential (0: no limit)", minimum=0
    )
    rate_limit_burst: int = setting(
        0, "requests one credential may send at once (0: a minute's worth)", minimum=0
    )
    upstream_hold_off_max_s: float = setting(
        60.0,
        "after an upstream 429, refuse that credential up front on every replica for its "
        "Retry-After (5 s without one), at most this long (0: off)",
        minimum=0,
    )
    response_cache: bool = setting(
        False, "serve location reads again to the same credential while fresh (contract.py)"
    )
    response_cache_live_s: float = setting(
        0,
        "with the response cache, also serve network status and power reads again for this "
        "many seconds; live subscriptions may then see data this old (0: never cached)",
        minimum=0,
    )
    persisted_query_ttl_s: float = setting(
        24 * 3600, "seconds a document registered by hash (APQ) is kept", minimum=1
    )
    trusted_documents: str = setting(
        "", "JSON manifest of hash → document; when set, only its documents run"
    )
    max_body_bytes: int = setting(1_000_000, "largest request body accepted", minimum=1)
    # Connections and clients: none may hold the server's sockets or workers for long.
    max_connections: int = setting(2000, "open client connections per process", minimum=1)
    max_requests_in_flight: int = setting(
        500, "GraphQL requests run at once; more get 503 OVERLOADED", minimum=0
    )
    header_timeout_s: float = setting(
        10.0, "seconds a client may take to send its request head", minimum=0.1
    )
    body_timeout_s: float = setting(
        30.0, "seconds a client may take to send its request body", minimum=0.1
    )
    # Past the 5 s idle expiry of common clients (httpx, Node's agent), so that a client
    # never reuses a connection the server is closing at that very moment.
    keep_alive_timeout_s: int = setting(
        20, "seconds an idle client connection stays open", minimum=1
    )
    shutdown_timeout_s: int = setting(
        30, "seconds in-flight requests get to finish after SIGTERM", minimum=0
    )
    graphiql: bool = setting(True, "serve GraphiQL to browsers at /graphql")
    graphiql_assets_dir: str = setting(
        "", "GraphiQL's node_modules directory (default: the checkout's graphiql/node_modules)"
    )
    # A random key per process is safe but makes cursors die on restart and differ between
    # replicas. Never a flag: a flag's value shows in the process list.
    cursor_secret: str = setting(
        help="HMAC key of cursors; set it when running more than one process",
        flag=False,
        default_factory=lambda: secrets.token_urlsafe(32),
    )
    # HTTP surface.
    cors_origins: tuple[str, ...] = setting((), "comma-separated origins browsers may call from")
    # The gateway reads no cookie (the token comes from `Authorization` only): this is for
    # a fronting proxy that does; never with "*".
    cors_allow_credentials: bool = setting(False, "let browsers send cookies cross-origin")
    compress_min_bytes: int = setting(1024, "smallest answer compressed", minimum=0)
    log_level: str = setting("info", "least severe log level written", choices=LOG_LEVELS)
    log_format: str = setting(
        "json", "`json` for log shippers, `text` for a terminal", choices=LOG_FORMATS
    )
    tracing: str = setting(
        "off", "OpenTelemetry export (needs the `otel` extra)", choices=TRACING_MODES
    )
    metrics_multiprocess_dir: str = setting(
        "", "directory the workers share for Prometheus multiprocess metrics"
    )
    live_status_interval_s: float = setting(
        5.0, "subscriptions: seconds between network status polls", minimum=0.01
    )
    live_power_interval_s: float = setting(
        10.0, "subscriptions: seconds between power polls", minimum=0.01
    )
    live_errors_interval_s: float = setting(
        15.0, "subscriptions: seconds between hardware error polls", minimum=0.01
    )
    live_max_backoff_s: float = setting(
        120.0, "longest pause of a live poll after failures", minimum=0.01
    )
    live_max_connections: int = setting(1000, "open WebSocket connections at once", minimum=0)
    live_max_subscriptions_per_connection: int = setting(
        50, "operations at once on one WebSocket", minimum=1
    )
    live_max_subscriptions_per_credential: int = setting(
        500, "live subscriptions of one token (all connections)", minimum=1
    )
    live_max_pending_events: int = setting(
        1000, "events waiting per subscriber (coalesced per EVSE or location)", minimum=1
    )
    live_max_error_pages: int = setting(
        10, "pages of new hardware errors one live poll may read", minimum=1
    )
    live_fleet: bool = setting(
        True, "with a Redis URL: one live poller per token and view across all replicas"
    )
    live_fleet_lease_s: float = setting(
        3.0, "seconds a replica's lead of a live poll outlives it (the takeover time)", minimum=0.3
    )
    live_connection_init_timeout_s: float = setting(
        10.0, "seconds a WebSocket may take to send connection_init", minimum=0.01
    )
    live_keepalive_s: float = setting(
        15.0, "seconds between graphql-transport-ws pings (0: none)", minimum=0
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f, getattr(self, f.name))
        _check_url(self.upstream_url)
        if self.redis_url and urlsplit(self.redis_url).scheme not in REDIS_SCHEMES:
            raise SettingsError("GATEWAY_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise SettingsError(
                "GATEWAY_CORS_ORIGINS '*' cannot be combined with GATEWAY_CORS_ALLOW_CREDENTIALS"
            )

    def as_env(self) -> dict[str, str]:
        """Every setting as a `GATEWAY_*` variable: how worker processes receive them."""
        return {env_name(f): _render(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from `GATEWAY_*` variables; explicit overrides win."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(env_name(f))
            if raw is not None:
                values[f.name] = parse(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def env_name(f: Field[Any]) -> str:
    return ENV_PREFIX + f.name.upper()


def parse(f: Field[Any], raw: str) -> Any:
    """One setting's text (from the environment or a flag) as its typed value."""
    kind = type_name(f)
    try:
        return _PARSERS.get(kind, str)(raw)
    except ValueError:
        raise SettingsError(
            f"{env_name(f)}: not {_ARTICLES.get(kind, 'a')} {kind}: {raw!r}"
        ) from None


def type_name(f: Field[Any]) -> str:
    annotation = f.type
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "str")


def _check(f: Field[Any], value: Any) -> None:
    minimum = f.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise SettingsError(f"{env_name(f)} must be at least {minimum:g} (got {value!r})")
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise SettingsError(f"{env_name(f)} must be one of {', '.join(choices)} (got {value!r})")


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise SettingsError(f"GATEWAY_UPSTREAM_URL is not a URL ({exc}): {url!r}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SettingsError(f"GATEWAY_UPSTREAM_URL must be an http(s) URL with a host: {url!r}")


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


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
_ARTICLES = {"int": "an", "float": "a", "bool": "a", "tuple[str, ...]": "a"}
