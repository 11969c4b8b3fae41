"""The running state of one emulator: data, tokens, knobs, faults and what it has seen."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from .auth import TokenBook
from .config import EmulatorConfig
from .faults import Fault, FaultQueue
from .live import LiveWorld, StepSummary
from .network import Network
from .operations import OPERATION_IDS
from .paging import Pager
from .records import Tenant
from .seed import build_seed

# Demo access tokens (printed by `make run`) outlive any demo session.
DEMO_TOKEN_TTL_S = 30 * 24 * 3600


class EmulatorState:
    """Everything a test or the admin endpoints may read or turn, in one place.

    Token expiry follows `clock` (wall-clock epoch seconds; replace it to age tokens in a
    test without sleeping), not the data's instant `now`, which may lie in the past and
    moves only with the live clock's steps.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.anchor = config.anchor()
        """The seed's anchor: at step 0 the network shows the 30 days before it."""
        self.network = Network(build_seed(config.seed, self.anchor))
        self.live = LiveWorld(self.network, config.step_s)
        self.tenants: list[Tenant] = list(self.network.tenants)
        self.counters: Counter[str] = Counter()
        """Requests per operationId, including those refused by auth or a fault."""
        self.requests: list[tuple[str, str, str]] = []
        """(operationId, method, path with query string) in arrival order."""
        self.in_flight = 0
        self.max_in_flight = 0
        """Most API requests being answered at once: calls that overlapped, not queued."""
        self.latency_ms = config.latency_ms
        self.page_size = config.page_size
        self.clock: Callable[[], float] = time.time
        self.faults = FaultQueue()
        self.cache_control: dict[str, str] = {}
        """operationId -> the Cache-Control its handler's answers carry (none by default)."""
        secret = secrets.token_bytes(32)
        self.pager = Pager(secret)
        self.tokens = TokenBook(self.tenants, config.seed, secret, self.clock(), DEMO_TOKEN_TTL_S)

    @property
    def now(self) -> datetime:
        """The data's instant: the anchor, moved on by every step taken."""
        return self.live.now

    @property
    def step(self) -> int:
        """Steps taken since the seeded world (step 0)."""
        return self.live.step

    def advance(self, steps: int = 1) -> StepSummary:
        """Move the demo world on by `steps` steps of `config.step_s` demo time each, and
        say what changed. Not an API call: nothing is counted or logged.

        Call it between requests (a step is a few milliseconds of CPU): from a thread other
        than the server's, prefer `POST /_emulator/clock/advance`, which steps on the
        server's own event loop."""
        return self.live.advance(steps)

    @property
    def access_tokens(self) -> dict[str, str]:
        """Tenant id -> demo access token, valid for 30 days from start."""
        return self.tokens.access_tokens

    @property
    def refresh_tokens(self) -> dict[str, str]:
        """Tenant id -> refresh token accepted by GET /auth/refreshAccessToken."""
        return self.tokens.refresh_tokens

    def tenant(self, tenant_id: str) -> Tenant:
        return next(tenant for tenant in self.tenants if tenant.id == tenant_id)

    def inject(self, operation_id: str, fault: Fault, times: int | None = 1) -> None:
        """Make the next `times` calls of `operation_id` misbehave (None: every call)."""
        if operation_id not in OPERATION_IDS:
            raise ValueError(f"unknown operationId {operation_id!r}")
        self.faults.add(operation_id, fault, times)

    def set_cache_control(self, operation_id: str, value: str | None) -> None:
        """Send `Cache-Control: value` with `operation_id`'s answers (None: none again)."""
        if operation_id not in OPERATION_IDS:
            raise ValueError(f"unknown operationId {operation_id!r}")
        if value is None:
            self.cache_control.pop(operation_id, None)
        else:
            self.cache_control[operation_id] = value

    def record(self, operation_id: str, method: str, path_with_query: str) -> None:
        self.counters[operation_id] += 1
        self.requests.append((operation_id, method, path_with_query))

    def reset(self) -> None:
        """Clear counters, the request log, pending faults and Cache-Control headers (the
        data stays)."""
        self.counters.clear()
        self.requests.clear()
        self.faults.clear()
        self.cache_control.clear()
        self.max_in_flight = self.in_flight

    def reset_data(self) -> None:
        """Restore the seeded network, undoing every create and update, and turn the
        live clock back to step 0."""
        self.network.reset()
        self.live.reset()
