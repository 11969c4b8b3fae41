"""Handler of `GET /auth/refreshAccessToken`: a refresh token buys an access token.

It takes no query parameters and ignores any (the contract gives it no 400 answer).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from .endpoint import Call, json_response
from .wire import format_instant


async def refresh_access_token(call: Call) -> Response:
    state = call.state
    token, expires_at = state.tokens.mint(call.tenant_id, state.clock(), state.config.token_ttl_s)
    valid_until = format_instant(datetime.fromtimestamp(expires_at, UTC))
    return json_response({"token": token, "validUntil": valid_until})
