"""Shared machinery of the upstream records: the base struct, lenient time types, codecs.

Timestamps are read leniently. The contract shows them only as strings ("ISO 8601
expected"), so one malformed value must not fail a whole page of otherwise good rows.
Fields that hold an instant are typed `Instant` (a `datetime` subclass) or `CalendarDate`
(a `date` subclass); msgspec hands those to `_decode_hook`, which parses with
`fromisoformat` and answers a private "malformed" sentinel on failure (msgspec checks the
hook's answer against the field type, so it cannot answer `None` itself). The
`__post_init__` of `Timestamped` turns every sentinel into `None`; the hook logs the value
once. Parsed instants are always timezone-aware: a value without an offset is read as UTC.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

import msgspec

from gateway.upstream.contract import format_instant

logger: Final = logging.getLogger("gateway.upstream")

T = TypeVar("T")

# Bounds the memory that "log each odd value once" can take when an upstream misbehaves.
_MAX_REMEMBERED_ODDITIES: Final = 1024
_reported: set[tuple[str, str]] = set()


def report_once(kind: str, value: object) -> None:
    """Log an unexpected upstream value at WARNING, once per (kind, value)."""
    text = repr(value)[:80]
    key = (kind, text)
    if key in _reported:
        return
    if len(_reported) >= _MAX_REMEMBERED_ODDITIES:
        return
    _reported.add(key)
    logger.warning("upstream sent an unexpected %s value %s; reading it leniently", kind, text)


class Instant(datetime):
    """A timezone-aware `datetime` decoded leniently from an upstream timestamp."""

    @classmethod
    def of(cls, value: datetime) -> Instant:
        """Convert an aware `datetime` (for request bodies); naive values are refused."""
        if value.tzinfo is None:
            raise ValueError("an upstream instant needs a timezone")
        utc = value.astimezone(UTC)
        return cls.combine(utc.date(), utc.timetz())


class CalendarDate(date):
    """A calendar day decoded leniently from an upstream date string (e.g. `2023-10-12`)."""


class _MalformedInstant(Instant):
    """Marks a timestamp that could not be parsed; `Record.__post_init__` replaces it."""


class _MalformedDate(CalendarDate):
    """Marks a date that could not be parsed; `Record.__post_init__` replaces it."""


_MALFORMED_INSTANT: Final = _MalformedInstant(1970, 1, 1, tzinfo=UTC)
_MALFORMED_DATE: Final = _MalformedDate(1970, 1, 1)


def parse_instant(value: object) -> Instant | None:
    """Parse an ISO 8601 timestamp; `None` (and one log line) when it is not one."""
    if isinstance(value, str):
        try:
            parsed = Instant.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed
    report_once("timestamp", value)
    return None


def parse_calendar_date(value: object) -> CalendarDate | None:
    """Parse an ISO 8601 day, also accepting a full timestamp (its date part is kept)."""
    if isinstance(value, str):
        try:
            return CalendarDate.fromisoformat(value)
        except ValueError:
            instant = parse_instant(value)
            if instant is not None:
                return CalendarDate(instant.year, instant.month, instant.day)
            return None
    report_once("date", value)
    return None


def _decode_hook(type_: type[Any], obj: object) -> object:
    if type_ is Instant:
        return parse_instant(obj) or _MALFORMED_INSTANT
    if type_ is CalendarDate:
        return parse_calendar_date(obj) or _MALFORMED_DATE
    raise NotImplementedError(f"no decoder for {type_!r}")


def _encode_hook(obj: object) -> object:
    # msgspec encodes only exact `datetime`/`date` natively, not our subclasses.
    if isinstance(obj, datetime):
        return format_instant(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    raise NotImplementedError(f"cannot encode {type(obj)!r}")


class Record(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    """Base of every upstream record: immutable, camelCase on the wire, absent = default.

    Subclasses repeat `kw_only=True` (msgspec does not inherit that option) so that
    required key fields may follow optional ones.
    """


class Timestamped(Record, frozen=True, kw_only=True):
    """Base of records with `Instant`/`CalendarDate` fields: unparseable values become None.

    Kept apart from `Record` so that rows without timestamps skip the per-row hook.
    """

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            # Identity, not equality: a real 1970-01-01 instant must survive.
            if value is _MALFORMED_INSTANT or value is _MALFORMED_DATE:
                msgspec.structs.force_setattr(self, name, None)


_decoders: dict[object, msgspec.json.Decoder[Any]] = {}


def decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    """The cached JSON decoder for one record type (built on first use)."""
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = msgspec.json.Decoder(type_, dec_hook=_decode_hook)
        _decoders[type_] = decoder
    return decoder


_encoder: Final = msgspec.json.Encoder(enc_hook=_encode_hook)


def encode(value: object) -> bytes:
    """Encode a request body; `UNSET` fields are left out, `None` is sent as `null`."""
    return _encoder.encode(value)
