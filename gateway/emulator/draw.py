"""Small helpers for drawing demo values from a seeded `random.Random`."""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import UTC, datetime


def new_uuid(rng: random.Random) -> str:
    """A uuid4-shaped id that depends only on the generator's state."""
    # Formatted by hand: uuid.UUID is several times slower, and the seed draws thousands.
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def hex_id(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}X}"


def instant(epoch_s: float) -> datetime:
    """A UTC instant at millisecond precision: what the wire format can carry."""
    return datetime.fromtimestamp(round(epoch_s * 1000) / 1000, UTC)


class Weighted:
    """A table of keys drawn with probability proportional to their weights."""

    def __init__(self, table: tuple[tuple[str, float], ...]) -> None:
        self.keys = [key for key, _ in table]
        self.bounds = list(itertools.accumulate(weight for _, weight in table))

    def draw(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect_right(self.bounds, rng.random() * self.bounds[-1])]
