"""The emulator's one configuration object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# Documented lifetime of a ChargEye access JWT.
DEFAULT_TOKEN_TTL_S = 8 * 60 * 60
# Demo time per step of the live clock: short enough that sessions visibly run on.
DEFAULT_STEP_S = 30.0


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """How to build one emulator; the running state lives in `EmulatorState`."""

    seed: int = 7
    """Seed of the demo network: the same seed and `now` give the same data."""
    latency_ms: int = 0
    """Initial delay added to every API answer (mutable later as `state.latency_ms`)."""
    page_size: int = 5
    """Initial rows per page of the paged network views (small, so tests cross pages)."""
    admin: bool = False
    """Serve the `/_emulator/...` control endpoints; off = they answer 404."""
    now: datetime | None = None
    """Anchor of the data's "last 30 days"; None = current UTC time floored to the hour."""
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S
    """Lifetime of access tokens minted by `GET /auth/refreshAccessToken`."""
    step_s: float = DEFAULT_STEP_S
    """Demo time one step of the live clock covers (`EmulatorState.advance`)."""
    tick_s: float = 0.0
    """Wall-clock seconds between steps taken by the app's background ticker while its
    lifespan runs; 0 = no ticker (the world moves only when advanced)."""

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if self.token_ttl_s <= 0:
            raise ValueError("token_ttl_s must be positive")
        if self.step_s < 1:
            raise ValueError("step_s must be at least 1")
        if self.tick_s < 0:
            raise ValueError("tick_s must not be negative")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")

    def anchor(self) -> datetime:
        """The instant the demo network is generated around, in UTC."""
        if self.now is not None:
            return self.now.astimezone(UTC)
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
