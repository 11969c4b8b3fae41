"""The page walker reads the upstream one page at a time, only as rows are consumed."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from gateway.errors import UpstreamProtocolError
from gateway.upstream import Page, walk


class Book:
    """Three pages of three rows; counts the fetches."""

    def __init__(self, pages: dict[str | None, Page[int]] | None = None) -> None:
        self.fetched: list[str | None] = []
        self.pages = pages or {
            None: Page(rows=(1, 2, 3), next_token="p2"),
            "p2": Page(rows=(4, 5, 6), next_token="p3"),
            "p3": Page(rows=(7, 8, 9)),
        }

    async def __call__(self, token: str | None) -> Page[int]:
        self.fetched.append(token)
        return self.pages[token]


async def test_walk_yields_every_row_once_in_order() -> None:
    book = Book()
    assert [row async for row in walk(book)] == list(range(1, 10))
    assert book.fetched == [None, "p2", "p3"]


@pytest.mark.parametrize(("take", "fetches"), [(1, 1), (3, 1), (4, 2), (6, 2), (7, 3)])
async def test_walk_never_reads_ahead(take: int, fetches: int) -> None:
    book = Book()
    taken: list[int] = []
    async with aclosing(walk(book)) as rows:
        async for row in rows:
            taken.append(row)
            if len(taken) == take:
                break
    assert taken == list(range(1, take + 1))
    assert len(book.fetched) == fetches


async def test_walk_resumes_at_a_token_and_stops_after_max_pages() -> None:
    book = Book()
    assert [row async for row in walk(book, start_token="p2", max_pages=1)] == [4, 5, 6]
    assert book.fetched == ["p2"]


async def test_empty_pages_in_the_middle_are_walked_through() -> None:
    book = Book({None: Page(rows=(), next_token="b"), "b": Page(rows=(1,))})
    assert [row async for row in walk(book)] == [1]


async def test_a_page_that_points_at_itself_is_a_protocol_error() -> None:
    book = Book({None: Page(rows=(1,), next_token="a"), "a": Page(rows=(2,), next_token="a")})
    with pytest.raises(UpstreamProtocolError):
        [row async for row in walk(book)]


@pytest.mark.parametrize("token", [None, ""])
def test_page_normalises_the_last_page_signal(token: str | None) -> None:
    assert Page.of((1,), token).next_token is None
    assert Page.of((1,), token).is_last
    assert Page.of((1,), "t").next_token == "t"
