"""`Caller`: what every upstream call of one request carries."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import Unauthenticated
from gateway.upstream.client import UpstreamClient

NO_TOKEN = "This field needs an `Authorization: Bearer <token>` header."


@dataclass(frozen=True, slots=True)
class Caller:
    """The shared client, the caller's own bearer token and the request's deadline."""

    upstream: UpstreamClient
    bearer: str | None
    deadline: float

    @property
    def token(self) -> str:
        """The caller's token; without one, the field fails before any upstream call."""
        if self.bearer is None:
            raise Unauthenticated(NO_TOKEN)
        return self.bearer
