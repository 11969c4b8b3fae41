"""Upstream calls made by each README example, counted at the emulator.

    python -m bench calls

Runs the emulator and the gateway on loopback ports, sends each `graphql` block of the
README with a demo token, and prints the upstream operations each one caused.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.config import Settings
from tests.support import running_emulator, serving

README = Path(__file__).resolve().parents[1] / "README.md"


async def main() -> None:
    examples = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
    async with running_emulator() as emulator:
        settings = replace(Settings(upstream_url=emulator.url), cursor_secret="bench")
        async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=60) as http:
            print(f"emulator page size {emulator.state.page_size}\n")
            for example in examples:
                name = re.search(r"query (\w+)", example)
                emulator.state.reset()
                started = time.perf_counter()
                response = await http.post(
                    f"{url}/graphql",
                    json={"query": example},
                    headers={"Authorization": f"Bearer {emulator.token_a}"},
                )
                elapsed_ms = (time.perf_counter() - started) * 1000
                errors = len(response.json().get("errors", []))
                counts = {op: n for op, n in sorted(emulator.state.counters.items()) if n}
                total = sum(counts.values())
                print(
                    f"{name.group(1) if name else '?'}: {total} upstream calls, "
                    f"{elapsed_ms:.0f} ms, {errors} errors, {len(response.content)} bytes"
                )
                for op, n in counts.items():
                    print(f"    {op:28} {n}")
