"""The graphql-http server audits, run with Node against a URL; also a before/after report.

`python -m tests.http.audit` prints the tally of a default Strawberry endpoint over the toy
schema ("before") and of the gateway from `create_app` in front of the emulator ("after").
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import strawberry.asgi

from gateway.config import Settings
from tests.http.toy import SCHEMA
from tests.support import running_emulator, serving

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "js" / "audit.mjs"
LEVELS = ("MUST", "SHOULD", "MAY")


def node() -> str:
    """The node binary; CI has one, so its absence is a failure and not a skip."""
    path = shutil.which("node")
    assert path, "node is not on PATH: the GraphQL-over-HTTP audit needs Node 18+"
    assert (ROOT / "node_modules" / "graphql-http").is_dir(), (
        "node_modules is missing: run `npm ci` (`make test` does it)"
    )
    return path


async def run_audit(url: str) -> list[dict[str, Any]]:
    """Every server audit's result: id, name, status, and for a failure its reason."""
    process = await asyncio.create_subprocess_exec(
        node(), str(RUNNER), url, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def tally(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(ok, total) per requirement level."""
    counts = Counter((row["name"].split()[0], row["status"] == "ok") for row in rows)
    return {
        level: (counts[level, True], counts[level, True] + counts[level, False]) for level in LEVELS
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = [" ".join(f"{level} {ok}/{total}" for level, (ok, total) in tally(rows).items())]
    lines += [
        f"  {row['id']} {row['name']}: {row['reason']} (HTTP {row['httpStatus']})"
        for row in rows
        if row["status"] != "ok"
    ]
    return "\n".join(lines)


async def main() -> None:
    from gateway.app import create_app  # only the report needs the whole gateway

    default = strawberry.asgi.GraphQL(SCHEMA)
    async with serving(default) as before, running_emulator() as emulator:
        gateway = create_app(Settings(upstream_url=emulator.url))
        async with serving(gateway) as after:
            print("before, default Strawberry:", render(await run_audit(before)))
            print("after, the gateway:", render(await run_audit(f"{after}/graphql")))


if __name__ == "__main__":
    asyncio.run(main())
