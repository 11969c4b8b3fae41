"""Weighted header lists: the client's `q` decides, then the spec's or the server's order."""

from __future__ import annotations

import pytest

from gateway.http.negotiation import content_coding, response_media_type, weighted

GRJ = "application/graphql-response+json"
JSON = "application/json"


def test_weighted_reads_q_and_drops_other_parameters() -> None:
    entries = weighted("Text/HTML;level=1;q=0.5, application/json, ;q=1, x;q=bad, y;q=7")
    assert [(e.value, e.q) for e in entries] == [
        ("text/html", 0.5),
        ("application/json", 1.0),
        ("x", 0.0),
        ("y", 1.0),
    ]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("  ", JSON),
        ("*/*", JSON),
        (f"{GRJ}, */*", GRJ),
        (f"{GRJ};q=0.9, {JSON}", JSON),
        (f"{JSON};q=0, */*", GRJ),
        (f"{GRJ}, application/graphql+json, {JSON}, text/event-stream, multipart/mixed", GRJ),
        ("text/html", None),
        (f"{GRJ};q=0", None),
    ],
)
def test_response_media_type(accept: str | None, expected: str | None) -> None:
    assert response_media_type(accept) == expected


@pytest.mark.parametrize(
    ("accept_encoding", "expected"),
    [
        (None, None),
        ("", None),
        ("gzip, br", "br"),
        ("br;q=0.1, gzip;q=0.2", "gzip"),
        ("*;q=0", None),
    ],
)
def test_content_coding(accept_encoding: str | None, expected: str | None) -> None:
    assert content_coding(accept_encoding, ("br", "gzip")) == expected
