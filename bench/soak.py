"""A longer soak than the suite's: normal, hostile and faulty requests of two tenants.

    python -m bench soak [REQUESTS]

Prints how the answers went and the process's RSS before and after (the gateway and the
emulator share this process, as in the suite).
"""

from __future__ import annotations

import gc
import time

import httpx

from gateway.app import create_app
from tests.gateway.conftest import Gateway, gateway_settings
from tests.gateway.test_soak import rss_kib, soak
from tests.support import running_emulator, serving


async def main(n: int = 10_000) -> bool:
    async with running_emulator() as emulator:
        settings = gateway_settings(emulator.url)
        async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=60) as http:
            gateway = Gateway(url, http, settings)
            await soak(gateway, emulator, 200)
            gc.collect()
            before = rss_kib()
            started = time.perf_counter()
            seen = await soak(gateway, emulator, n)
            elapsed = time.perf_counter() - started
            gc.collect()
            after = rss_kib()
    print(f"{n} requests in {elapsed:.1f} s ({n / elapsed:.0f}/s)")
    for kind, count in sorted(seen.items()):
        print(f"  {kind:24} {count}")
    print(f"RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB")
    return after - before < 40 * 1024
