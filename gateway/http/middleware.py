"""`http_middleware(settings)`: the middleware stack around every route, outermost first.

1. CORS, only when origins are configured: outermost, so that a preflight is answered
   without touching the app and every answer (a 413 too) carries the CORS headers a
   browser needs to let the page read it.
2. Compression of bodies of at least `Settings.compress_min_bytes`.
3. Requests per credential, when `Settings.rate_limit_per_minute` is set (429 past it),
   counted in the shared state, and credentials the upstream answered 429 held off
   (`Settings.upstream_hold_off_max_s`); before the concurrency limit, so that a caller
   past its rate takes no slot.
4. At most `Settings.max_requests_in_flight` GraphQL requests at once (503 past it).
5. The request body limit, `Settings.max_body_bytes`.
6. The body read within `Settings.body_timeout_s`, and cancellation of a request whose
   client has disconnected (innermost: it reads the body through the limit above).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.config import Settings, SettingsError
from gateway.http.compression import CompressionMiddleware
from gateway.http.concurrency import ConcurrencyLimit
from gateway.http.disconnect import CancelOnDisconnect
from gateway.http.limits import BodyLimitMiddleware
from gateway.http.rate_limit import RateLimit

CORS_METHODS = ("GET", "POST")
# The only non-safelisted headers a GraphQL client needs: its token and a JSON content type.
CORS_HEADERS = ("Authorization", "Content-Type")
# Ten minutes of cached preflights: few extra round trips, and a narrowed origin list
# takes effect soon. Browsers cap it anyway (Chromium at two hours).
CORS_MAX_AGE_S = 600


def http_middleware(settings: Settings) -> list[Middleware]:
    """The gateway's HTTP middleware; raises ValueError on an unsafe CORS configuration."""
    stack = []
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=cors_origins(settings),
                allow_methods=CORS_METHODS,
                allow_headers=CORS_HEADERS,
                allow_credentials=settings.cors_allow_credentials,
                max_age=CORS_MAX_AGE_S,
            )
        )
    stack.append(Middleware(CompressionMiddleware, minimum_size=settings.compress_min_bytes))
    if settings.rate_limit_per_minute > 0 or settings.upstream_hold_off_max_s > 0:
        stack.append(
            Middleware(
                RateLimit,
                per_minute=settings.rate_limit_per_minute,
                burst=settings.rate_limit_burst,
                paths=("/graphql",),
            )
        )
    stack.append(
        Middleware(
            ConcurrencyLimit,
            max_requests=settings.max_requests_in_flight,
            paths=("/graphql",),
        )
    )
    stack.append(Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes))
    stack.append(Middleware(CancelOnDisconnect, body_timeout_s=settings.body_timeout_s))
    return stack


def cors_origins(settings: Settings) -> list[str]:
    """The configured origins, normalised to what browsers send in `Origin`.

    A wildcard with credentials is refused: Starlette would then echo any origin back as
    allowed, and every site could call the gateway with the user's cookies.
    """
    origins = [_origin(value) for value in settings.cors_origins]
    if "*" in origins and settings.cors_allow_credentials:
        raise SettingsError("GATEWAY_CORS_ORIGINS '*' cannot be combined with credentials")
    return origins


def _origin(value: str) -> str:
    if value.strip() == "*":
        return "*"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise SettingsError(
            f"GATEWAY_CORS_ORIGINS: not an origin (scheme://host[:port]): {value!r}"
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise SettingsError(
            f"GATEWAY_CORS_ORIGINS: not an origin (scheme://host[:port]): {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"
