"""Bearer tokens: long-lived refresh tokens and the expiring access tokens minted from them.

Tokens are looked up, not verified: the book is the only authority, so any token it did not
mint is unknown. Access tokens are JWT-shaped (with a matching `exp`) only so that they look
like ChargEye's; nothing here decodes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from .records import Tenant

# Above this many grants, expired access tokens are forgotten (they then read as unknown).
_PRUNE_ABOVE = 10_000


class AuthError(Exception):
    """Raised when a request's credential is missing, unknown, expired or of the wrong kind;
    the endpoint answers 401 with this message."""


@dataclass(frozen=True, slots=True)
class _Grant:
    tenant_id: str
    refresh: bool
    expires_at: float | None  # epoch seconds; refresh tokens do not expire


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenBook:
    """Every token the emulator accepts, with its tenant and expiry."""

    def __init__(
        self, tenants: Iterable[Tenant], seed: int, secret: bytes, now: float, demo_ttl_s: float
    ) -> None:
        self._secret = secret
        self._grants: dict[str, _Grant] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.access_tokens: dict[str, str] = {}
        for tenant in tenants:
            # Stable per seed, so a developer's saved refresh token survives restarts.
            digest = hashlib.sha256(f"refresh:{seed}:{tenant.id}".encode()).hexdigest()[:32]
            refresh = f"rt-{tenant.id}-{digest}"
            self._grants[refresh] = _Grant(tenant.id, refresh=True, expires_at=None)
            self.refresh_tokens[tenant.id] = refresh
            self.access_tokens[tenant.id] = self.mint(tenant.id, now, demo_ttl_s)[0]

    def mint(self, tenant_id: str, now: float, ttl_s: float) -> tuple[str, float]:
        """A new access token for `tenant_id` and its expiry (epoch seconds, whole ms)."""
        expires_at = math.floor((now + ttl_s) * 1000) / 1000
        header = _b64(b'{"alg":"HS256","typ":"JWT"}')
        claims = {
            "iss": "chargeye-emulator",
            "sub": tenant_id,
            "iat": int(now),
            "exp": int(expires_at),
            "jti": secrets.token_hex(8),
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        token = f"{header}.{body}.{_b64(mac)}"
        if len(self._grants) > _PRUNE_ABOVE:
            self._prune(now)
        self._grants[token] = _Grant(tenant_id, refresh=False, expires_at=expires_at)
        return token, expires_at

    def revoke(self, token: str) -> bool:
        """Forget `token` (access or refresh): it reads as unknown from now on."""
        return self._grants.pop(token, None) is not None

    def tenant_of(self, authorization: str | None, now: float, *, refresh: bool = False) -> str:
        """The tenant behind an `Authorization` header; raises AuthError if there is none."""
        if not authorization:
            raise AuthError("Missing Authorization header")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("Authorization header must be 'Bearer <token>'")
        grant = self._grants.get(token)
        if grant is None:
            raise AuthError("Invalid token")
        if grant.refresh != refresh:
            raise AuthError(
                "A refresh token is required" if refresh else "Refresh tokens are not accepted here"
            )
        if grant.expires_at is not None and now >= grant.expires_at:
            raise AuthError("Token expired")
        return grant.tenant_id

    def _prune(self, now: float) -> None:
        self._grants = {
            token: grant
            for token, grant in self._grants.items()
            if grant.expires_at is None or grant.expires_at > now
        }
