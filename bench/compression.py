"""Size and time of the README's largest example with and without compression.

    python -m bench compression

Serves the emulator and the gateway on loopback, sends the dashboard example 20 times
per encoding, and prints the body size on the wire and the median and p90 times.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import replace
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.config import Settings
from tests.support import running_emulator, serving

README = Path(__file__).resolve().parents[1] / "README.md"
ROUNDS = 20


async def main() -> None:
    examples = re.findall(r"```graphql\n(.*?)```", README.read_text(), flags=re.DOTALL)
    largest = max(examples, key=len)
    async with running_emulator() as emulator:
        settings = replace(Settings(upstream_url=emulator.url), cursor_secret="bench")
        async with serving(create_app(settings)) as url:
            for encoding in ("identity", "gzip", "br"):
                # httpx would decode the body; read the raw stream to see bytes on the wire.
                async with httpx.AsyncClient(timeout=60) as http:
                    times, size = [], 0
                    for _ in range(ROUNDS):
                        started = time.perf_counter()
                        request = http.build_request(
                            "POST",
                            f"{url}/graphql",
                            json={"query": largest},
                            headers={
                                "Authorization": f"Bearer {emulator.token_a}",
                                "Accept-Encoding": encoding,
                            },
                        )
                        response = await http.send(request, stream=True)
                        raw = b"".join([chunk async for chunk in response.aiter_raw()])
                        await response.aclose()
                        times.append((time.perf_counter() - started) * 1000)
                        size = len(raw)
                        used = response.headers.get("content-encoding", "identity")
                times.sort()
                median, p90 = statistics.median(times), times[int(0.9 * len(times)) - 1]
                print(
                    f"{encoding:8} ({used:8}) {size:7d} bytes"
                    f"  median {median:6.1f} ms  p90 {p90:6.1f} ms"
                )
