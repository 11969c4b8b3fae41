"""Snapshots on the wire between replicas: typed records as JSON, rebuilt as snapshots.

A snapshot, not a diff, goes out: pub/sub may lose a message, and the next snapshot still
diffs correctly against whatever the receiver saw last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from gateway.live.snapshots import ErrorSnapshot, PowerSnapshot, StatusSnapshot
from gateway.loaders.hardware_errors import error_key
from gateway.upstream.models import (
    HardwareError,
    LocationPower,
    NetworkLocationStatus,
    decoder_for,
    encode,
)

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Wire(Generic[S]):
    encode: Callable[[S], bytes]
    decode: Callable[[bytes], S]  # raises msgspec.ValidationError on a foreign body


class _Status(msgspec.Struct, frozen=True):
    scope: tuple[str, ...] | None
    trees: tuple[NetworkLocationStatus, ...]


class _Power(msgspec.Struct, frozen=True):
    scope: tuple[str, ...] | None
    rows: tuple[LocationPower, ...]


class _Errors(msgspec.Struct, frozen=True):
    scope: tuple[str, ...] | None
    rows: tuple[HardwareError, ...]
    location_of: dict[str, str]


def _decode_status(body: bytes) -> StatusSnapshot:
    wire = decoder_for(_Status).decode(body)
    return StatusSnapshot.of(wire.scope, wire.trees)


def _decode_power(body: bytes) -> PowerSnapshot:
    wire = decoder_for(_Power).decode(body)
    return PowerSnapshot.of(wire.scope, wire.rows)


def _decode_errors(body: bytes) -> ErrorSnapshot:
    wire = decoder_for(_Errors).decode(body)
    keys = frozenset(error_key(row) for row in wire.rows)
    return ErrorSnapshot(wire.scope, wire.rows, keys, wire.location_of)


STATUS_WIRE: Wire[StatusSnapshot] = Wire(
    lambda s: encode(_Status(s.scope, s.trees)), _decode_status
)
POWER_WIRE: Wire[PowerSnapshot] = Wire(
    lambda s: encode(_Power(s.scope, tuple(s.rows.values()))), _decode_power
)
ERRORS_WIRE: Wire[ErrorSnapshot] = Wire(
    lambda s: encode(_Errors(s.scope, s.rows, dict(s.location_of))), _decode_errors
)
