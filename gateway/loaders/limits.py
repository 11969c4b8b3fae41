"""The figures that bound what the loaders ask of the upstream, for the cost estimate.

They live in `contract.py` (what one call may carry, what a page holds); the schema reads
them here, so that it depends on the loaders and never on the upstream's contract.
"""

from __future__ import annotations

from typing import Final

from gateway.upstream import contract

BATCH_SIZE: Final = contract.MAX_IDS_PER_CALL
"""Keys one batched call carries: N parents cost ⌈N / BATCH_SIZE⌉ calls."""
PAGE_SIZE_HINT: Final = contract.PAGE_SIZE_HINT
"""Rows we expect per upstream page."""
MAX_FILTERED_PAGES: Final = contract.MAX_FILTERED_PAGES
"""Upstream pages a list filtered by the gateway reads, at most, per GraphQL page."""
