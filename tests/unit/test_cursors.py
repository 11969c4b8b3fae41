"""Cursors are opaque, signed, and bound to list, filter and caller."""

from __future__ import annotations

import base64

import pytest

from gateway.cursors import START, CursorCodec, Position
from gateway.errors import BadUserInput


def codec(
    *,
    secret: str = "s3",
    list_name: str = "transactions",
    filter_key: str = "",
    token: str = "tok-a",
) -> CursorCodec:
    return CursorCodec(secret, list_name=list_name, filter_key=filter_key, token=token)


def test_round_trip_keeps_page_token_and_offset() -> None:
    cursor = codec().encode(Position("upstream-token-7", 3, "tx-42"))
    assert codec().decode(cursor) == Position("upstream-token-7", 3, "tx-42")
    assert codec().decode(None) == START


def test_cursor_does_not_show_the_upstream_token_in_clear() -> None:
    cursor = codec().encode(Position("upstream-token-7", 3))
    assert "upstream-token-7" not in cursor


@pytest.mark.parametrize(
    "other",
    [
        codec(token="tok-b"),
        codec(filter_key='{"locationUids":["L2"]}'),
        codec(list_name="problematicSessions"),
        codec(secret="another-secret"),
    ],
    ids=["other-token", "other-filter", "other-list", "other-secret"],
)
def test_foreign_cursor_is_bad_user_input(other: CursorCodec) -> None:
    cursor = codec().encode(Position("p2", 1))
    with pytest.raises(BadUserInput) as caught:
        other.decode(cursor)
    assert caught.value.field == "after"


def test_tampered_cursor_is_bad_user_input() -> None:
    cursor = codec().encode(Position("p2", 1))
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01  # flip a bit of the payload, keep the signature
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(BadUserInput):
        codec().decode(forged)


@pytest.mark.parametrize("garbage", ["", "x", "!!!not-base64!!!", "a" * 400, "e30"])
def test_garbage_cursor_is_bad_user_input(garbage: str) -> None:
    with pytest.raises(BadUserInput):
        codec().decode(garbage)


def test_cursor_holds_no_plain_digest_of_the_token() -> None:
    import hashlib

    cursor = codec().encode(Position("p", 1))
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode(errors="ignore")
    assert hashlib.sha256(b"tok-a").hexdigest()[:24] not in raw
