"""`schema.graphql` is what the code exports, byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.schema.build import export_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_sdl_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert export_sdl() == committed, "run `make schema` and commit schema.graphql"


def test_cli_export_prints_the_same_sdl() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "export-schema"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout == export_sdl()
