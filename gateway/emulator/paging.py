"""Keyset pages behind opaque, signed `paginationToken`s.

A token names the operation and a digest of the caller's tenant and filter, plus the sort
key of the last row served. Continuing from a key rather than an offset keeps a walk
stable when rows are added meanwhile (a new location joins the end of the network
status walk), and binding keeps a token from being replayed on another query.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
SortKey = tuple[int | str, ...]


class PageTokenError(ValueError):
    """Raised for a `paginationToken` that is garbled, forged, or issued for another query;
    the endpoint answers 400."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    next_token: str | None  # None on the last page


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Pager:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def page(
        self,
        rows: Sequence[T],
        key: Callable[[T], SortKey],
        size: int,
        token: str | None,
        operation_id: str,
        binding: object,
    ) -> Page[T]:
        """One page of `rows` (already sorted by `key`, ascending) after `token`'s row.

        `binding` is anything JSON-serialisable that must be equal for the token to be
        accepted (the tenant and the normalised filter).
        """
        bound = self._digest(operation_id, binding)
        start = 0
        if token is not None:
            last = self._open(token, operation_id, bound)
            # `key=` evaluates O(log n) keys, not one per row of a long view.
            start = bisect.bisect_right(rows, last, key=key)
        chunk = list(rows[start : start + size])
        more = start + size < len(rows)
        return Page(chunk, self._seal(operation_id, bound, key(chunk[-1])) if more else None)

    def _digest(self, operation_id: str, binding: object) -> str:
        canonical = json.dumps([operation_id, binding], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return _b64encode(digest[:12])

    def _seal(self, operation_id: str, bound: str, last: SortKey) -> str:
        payload = _b64encode(
            json.dumps({"op": operation_id, "q": bound, "after": list(last)}).encode()
        )
        return f"{payload}.{self._mac(payload)}"

    def _open(self, token: str, operation_id: str, bound: str) -> SortKey:
        payload, _, mac = token.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(payload)):
            raise PageTokenError("Invalid paginationToken")
        try:
            data = json.loads(_b64decode(payload))
        except (binascii.Error, ValueError) as exc:
            raise PageTokenError("Invalid paginationToken") from exc
        if data.get("op") != operation_id or data.get("q") != bound:
            raise PageTokenError("paginationToken was issued for a different query")
        return tuple(data["after"])
