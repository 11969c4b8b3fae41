"""Opaque, signed GraphQL cursors over upstream `paginationToken` pages.

A cursor names a position: the upstream page (its `paginationToken`, or None for the
first page) and the offset of the next row inside that page. It is bound to the list it
was issued for, the filter, and a digest of the caller's token, and signed with an HMAC,
so a client can neither forge a position nor replay a cursor under another tenant's token
or another filter. Every failure is one `BadUserInput`, which tells nothing about why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import msgspec

from gateway.errors import BadUserInput

_SIGNATURE_BYTES = 16
_VERSION = 2


class _Payload(msgspec.Struct, array_like=True, frozen=True):
    version: int
    scope: str  # list name plus filter digest: a cursor only works where it was issued
    caller: str  # digest of the bearer token
    page_token: str | None
    offset: int
    last_key: str | None  # the row before the position, to resume after it if rows moved


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: the upstream page and the offset inside it."""

    page_token: str | None
    offset: int
    last_key: str | None = None


START = Position(page_token=None, offset=0)
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Payload)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class CursorCodec:
    """Encodes and checks cursors for one list, one filter and one caller."""

    def __init__(self, secret: str, *, list_name: str, filter_key: str, token: str) -> None:
        self._key = hashlib.sha256(secret.encode()).digest()
        self._scope = f"{list_name}:{digest(filter_key)}"
        # Keyed with the secret, so a cursor says nothing checkable about the token.
        self._caller = hmac.digest(self._key, token.encode(), "sha256")[:12].hex()

    def encode(self, position: Position) -> str:
        payload = _encoder.encode(
            _Payload(
                _VERSION,
                self._scope,
                self._caller,
                position.page_token,
                position.offset,
                position.last_key,
            )
        )
        signature = hmac.digest(self._key, payload, "sha256")[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(signature + payload).decode().rstrip("=")

    def decode(self, cursor: str | None) -> Position:
        if cursor is None:
            return START
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (ValueError, TypeError):
            raise _invalid() from None
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        expected = hmac.digest(self._key, payload, "sha256")[:_SIGNATURE_BYTES]
        if not hmac.compare_digest(signature, expected):
            raise _invalid()
        try:
            decoded = _decoder.decode(payload)
        except msgspec.DecodeError:
            raise _invalid() from None
        if (
            decoded.version != _VERSION
            or decoded.scope != self._scope
            or decoded.caller != self._caller
            or decoded.offset < 0
        ):
            raise _invalid()
        return Position(decoded.page_token, decoded.offset, decoded.last_key)


def _invalid() -> BadUserInput:
    return BadUserInput(
        "The `after` cursor is not valid for this list, filter and caller.", field="after"
    )
