"""`Timeline`: a newest-first view that grows at the new end and swaps rows in place."""

from __future__ import annotations

import pytest

from gateway.emulator.timeline import Timeline


def timeline() -> Timeline[str]:
    return Timeline(["c1", "b1", "a1"], id_of=lambda row: row[0])


def test_it_reads_like_the_newest_first_sequence_it_was_given() -> None:
    rows = timeline()
    assert list(rows) == ["c1", "b1", "a1"]
    assert (rows[0], rows[2], rows[-1], rows[-3]) == ("c1", "a1", "a1", "c1")
    assert rows[1:] == ["b1", "a1"]
    assert list(reversed(rows)) == ["a1", "b1", "c1"]
    assert len(rows) == 3 and "b1" in rows
    with pytest.raises(IndexError):
        rows[3]
    with pytest.raises(IndexError):
        rows[-4]


def test_a_new_row_goes_on_top_and_old_rows_keep_their_position() -> None:
    rows = timeline()
    before = rows.position("b")
    assert rows.add_newest("d1") == 3
    assert list(rows) == ["d1", "c1", "b1", "a1"]
    assert rows.position("b") == before and rows.position("d") == 3
    assert rows.at(3) == "d1"
    with pytest.raises(ValueError, match="duplicate"):
        rows.add_newest("d2")


def test_replacing_a_row_swaps_it_in_place() -> None:
    rows = timeline()
    rows.replace("b2")
    assert list(rows) == ["c1", "b2", "a1"]
    assert rows.get("b") == "b2" and rows.get("z") is None
    with pytest.raises(KeyError):
        rows.replace("z1")


def test_rows_at_kept_positions_come_out_newest_first() -> None:
    rows = timeline()
    positions = [rows.position("a"), rows.position("c")]
    assert positions == [0, 2]
    assert rows.newest_first_at([0, 2]) == ["c1", "a1"]
    assert rows.newest_first_at([]) == []
