"""Slicing GraphQL pages out of upstream pages reads only the pages it needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway.cursors import START, Position
from gateway.errors import UpstreamProtocolError
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
        page: Slice[int] = await slice_upstream(upstream.fetch, position, first, key=str)
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
    page = await slice_upstream(upstream.fetch, Position("p2", 4, "23"), 3, key=str)
    assert [row for row, _ in page.rows] == [24, 25, 26]
    assert upstream.fetched == ["p2"]
    assert page.has_next_page


async def test_page_ending_on_a_boundary_points_at_the_next_page() -> None:
    upstream = Upstream(total=30, size=10)
    page = await slice_upstream(upstream.fetch, START, 10, key=str)
    assert page.rows[-1][1] == Position("p1", 0)
    upstream.fetched.clear()
    following = await slice_upstream(upstream.fetch, page.rows[-1][1], 10, key=str)
    assert upstream.fetched == ["p1"]  # no refetch of page 0 just to skip it
    assert following.rows[0][0] == 10


async def test_walk_cost_is_one_call_per_upstream_page_when_pages_align() -> None:
    upstream = Upstream(total=40, size=10)
    _, pages = await walk(upstream, 10)
    assert pages == 4
    assert upstream.fetched == [None, "p1", "p2", "p3"]


async def test_zero_first_makes_no_call() -> None:
    upstream = Upstream(total=5, size=2)
    page = await slice_upstream(upstream.fetch, START, 0, key=str)
    assert page.rows == () and upstream.fetched == []


def test_slice_list_pages_a_whole_list() -> None:
    items = list("abcdefg")
    first = slice_list(items, START, 3, key=str)
    assert [row for row, _ in first.rows] == ["a", "b", "c"] and first.has_next_page
    last = slice_list(items, first.rows[-1][1], 10, key=str)
    assert [row for row, _ in last.rows] == ["d", "e", "f", "g"] and not last.has_next_page


async def test_a_repeating_page_token_is_an_error_not_a_spin() -> None:
    async def loop(token: str | None) -> FakePage:
        return FakePage((), "A")  # every page names page A as the next one

    with pytest.raises(UpstreamProtocolError):
        await slice_upstream(loop, START, 5, key=str)


async def test_resumes_after_the_last_row_when_the_page_shifted() -> None:
    rows = [10, 11, 12, 13, 14]

    async def fetch(token: str | None) -> FakePage:
        return FakePage(tuple(rows), None)

    first = await slice_upstream(fetch, START, 2, key=str)
    assert [row for row, _ in first.rows] == [10, 11]
    rows.insert(0, 9)  # a new row arrives at the top between the two requests
    second = await slice_upstream(fetch, first.rows[-1][1], 2, key=str)
    assert [row for row, _ in second.rows] == [12, 13]


async def test_a_filtered_walk_stops_at_its_page_budget_with_a_resume_point() -> None:
    upstream = Upstream(total=100, size=5)

    async def nothing_matches(token: str | None) -> FakePage:
        page = await upstream.fetch(token)
        return FakePage((), page.next_token)

    cut = await slice_upstream(nothing_matches, START, 3, key=str, max_pages=4)
    assert cut.rows == () and cut.has_next_page
    assert cut.end == Position("p4", 0)
    assert upstream.fetched == [None, "p1", "p2", "p3"]


def test_slice_list_resumes_after_a_row_that_moved() -> None:
    items = list("abcdef")
    first = slice_list(items, START, 2, key=str)
    items.insert(0, "z")
    following = slice_list(items, first.rows[-1][1], 2, key=str)
    assert [row for row, _ in following.rows] == ["c", "d"]
