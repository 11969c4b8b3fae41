"""`Caller`: what every upstream call of one request carries, and what it may spend.

Every call a loader makes goes through `Caller.call`, which adds the caller's token and
the request's deadline and spends one unit of the request's upstream-call budget. The
budget is the backstop behind the cost estimate: the call that would exceed it is refused
with `QueryTooComplex`, and so is every other upstream call the request still has pending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.errors import QueryTooComplex, Unauthenticated
from gateway.loaders.scope import RequestScope
from gateway.loaders.shape import NetworkShape
from gateway.upstream.client import UpstreamClient

T = TypeVar("T")
NO_TOKEN = "This field needs an `Authorization: Bearer <token>` header."


@dataclass
class CallBudget:
    """How many upstream calls the request may still make."""

    limit: int
    spent: int = 0

    def spend(self) -> None:
        if self.spent >= self.limit:
            raise QueryTooComplex(
                f"The request needed more than {self.limit} upstream calls and was stopped. "
                "Ask for fewer items per page or fewer nested lists.",
                limit="calls",
            )
        self.spent += 1


@dataclass(eq=False)
class Caller:
    """The shared client, the caller's own bearer token, the deadline and the budget."""

    upstream: UpstreamClient
    bearer: str | None
    deadline: float
    scope: RequestScope
    budget: CallBudget
    shape: NetworkShape = field(default_factory=NetworkShape)

    @property
    def token(self) -> str:
        """The caller's token; without one, the field fails before any upstream call."""
        if self.bearer is None:
            raise Unauthenticated(NO_TOKEN)
        return self.bearer

    async def call(self, method: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs, token=…, deadline=…)`, if the budget allows one more."""
        token = self.token
        try:
            self.budget.spend()
        except QueryTooComplex as spent:
            self.scope.close(spent)  # the request's other pending calls end too
            raise
        return await method(*args, token=token, deadline=self.deadline, **kwargs)
