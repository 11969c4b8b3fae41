"""Where the caller's credentials come from: the `Authorization` header and nowhere else.

Reading a token only from this header (never a cookie, the query string or the body) is
what keeps the GET-capable endpoint safe from cross-site request forgery: a browser will
not attach an `Authorization` header to a cross-site request without a CORS preflight.
A WebSocket may also carry it in its `connection_init` payload, which only the page's own
script can write (`gateway/http/live_socket.py`).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

SCHEME = "bearer"


def bearer_token(connection: HTTPConnection) -> str | None:
    """The bearer token of the request, or None when there is none or it is malformed."""
    return bearer_of(connection.headers.get("authorization"))


def bearer_of(header: str | None) -> str | None:
    """The token of an `Authorization` value, or None when there is none or it is malformed."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != SCHEME or not token or any(ch.isspace() for ch in token):
        return None
    return token
