"""`HoldOff`: credentials the upstream throttled, held off on every replica.

When the upstream answers a credential 429, the upstream client tells `throttled`, which
writes `hold:<digest>` (the credential's SHA-256, never the token) for the upstream's
`Retry-After` (capped at `max_s`; `default_s` without one). Until it expires the rate
limiter refuses that credential's requests up front, on whichever replica they land, so a
tenant over its upstream quota stops spending calls on it. The key holds the wall-clock
end, only to tell the caller how long is left: the key's own expiry ends the hold.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gateway.shared import SharedState, SharedStateError, credential_digest

log = logging.getLogger("gateway.shared.hold_off")

DEFAULT_S = 5.0  # a 429 without Retry-After: a pause a client can sit out


class HoldOff:
    def __init__(
        self,
        state: SharedState,
        *,
        max_s: float,
        default_s: float = DEFAULT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        self._max_s = max_s
        self._default_s = default_s
        self._clock = clock  # wall clock: replicas compare the stored end with their own

    async def throttled(self, token: str, retry_after_s: float | None) -> None:
        """The upstream answered 429 to `token`: hold it off for as long as it asked."""
        seconds = min(self._default_s if retry_after_s is None else retry_after_s, self._max_s)
        if seconds <= 0:
            return
        until = self._clock() + seconds
        try:
            await self._state.set(_key(token), repr(until).encode(), ttl_s=seconds)
        except SharedStateError as exc:  # the 429 still reaches this caller
            log.warning("upstream 429 not shared, the shared state is unreachable: %s", exc)

    async def held_for(self, token: str) -> float | None:
        """Seconds `token` is still held off, or None; raises `SharedStateError`."""
        stored = await self._state.get(_key(token))
        if stored is None:
            return None
        try:
            left = float(stored) - self._clock()
        except ValueError:
            return None
        # A replica whose clock runs ahead could see the end passed while the key lives.
        return min(max(left, 0.0), self._max_s)


def _key(token: str) -> str:
    return "hold:" + credential_digest(token)
