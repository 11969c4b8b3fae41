"""Slicing GraphQL pages out of upstream pages reads only the pages it needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway.cursors import START, Position
from gateway.paging import Slice, slice_list, slice_upstream


@dataclass(frozen=True)
class FakePage:
    rows: tuple[int, ...]
    next_token: str | None


class Upstream:
    """Rows 0..total-1 in upstream pages of `size`; tokens are 'p<index>'."""

    def __init__(self, total: int, size: int) -> None:
        self.total, self.size = total, size
        self.fetched: list[str | None] = []

    async def fetch(self, token: str | None) -> FakePage:
        self.fetched.append(token)
        index = 0 if token is None else int(token[1:])
        rows = tuple(range(index * self.size, min(self.total, (index + 1) * self.size)))
        more = (index + 1) * self.size < self.total
        return FakePage(rows, f"p{index + 1}" if more else None)


async def walk(upstream: Upstream, first: int) -> tuple[list[int], int]:
    seen: list[int] = []
    position, pages = START, 0
    while True:
        page: Slice[int] = await slice_upstream(upstream.fetch, position, first)
        pages += 1
        seen += [row for row, _ in page.rows]
        if not page.has_next_page:
            return seen, pages
        position = page.rows[-1][1]


@pytest.mark.parametrize("size", [1, 3, 7, 10, 50])
@pytest.mark.parametrize("first", [1, 4, 7, 25])
async def test_walk_returns_every_row_once(size: int, first: int) -> None:
    upstream = Upstream(total=23, size=size)
    seen, _ = await walk(upstream, first)
    assert seen == list(range(23))


async def test_page_inside_one_upstream_page_costs_one_call() -> None:
    upstream = Upstream(total=100, size=10)
    page = await slice_upstream(upstream.fetch, Position("p2", 4), 3)
    assert [row for row, _ in page.rows] == [24, 25, 26]
    assert upstream.fetched == ["p2"]
    assert page.has_next_page


async def test_page_ending_on_a_boundary_points_at_the_next_page() -> None:
    upstream = Upstream(total=30, size=10)
    page = await slice_upstream(upstream.fetch, START, 10)
    assert page.rows[-1][1] == Position("p1", 0)
    upstream.fetched.clear()
    following = await slice_upstream(upstream.fetch, page.rows[-1][1], 10)
    assert upstream.fetched == ["p1"]  # no refetch of page 0 just to skip it
    assert following.rows[0][0] == 10


async def test_walk_cost_is_one_call_per_upstream_page_when_pages_align() -> None:
    upstream = Upstream(total=40, size=10)
    _, pages = await walk(upstream, 10)
    assert pages == 4
    assert upstream.fetched == [None, "p1", "p2", "p3"]


async def test_zero_first_makes_no_call() -> None:
    upstream = Upstream(total=5, size=2)
    page = await slice_upstream(upstream.fetch, START, 0)
    assert page.rows == () and upstream.fetched == []


def test_slice_list_pages_a_whole_list() -> None:
    items = list("abcdefg")
    first = slice_list(items, START, 3)
    assert [row for row, _ in first.rows] == ["a", "b", "c"] and first.has_next_page
    last = slice_list(items, first.rows[-1][1], 10)
    assert [row for row, _ in last.rows] == ["d", "e", "f", "g"] and not last.has_next_page
