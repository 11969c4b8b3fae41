"""The cost estimate against the calls counted at the emulator, for every priced shape.

    python -m bench cost

Runs the shapes of `tests/gateway/test_cost_bound.py` cold (nothing seen of the caller's
network) and warm, and prints each estimate with the calls it bounds and their ratio.
"""

from __future__ import annotations

import httpx

from gateway.app import create_app
from tests.gateway.conftest import Gateway, gateway_settings
from tests.gateway.test_cost_bound import SHAPES, _run
from tests.support import running_emulator, serving


async def main() -> bool:
    async with running_emulator() as emulator:
        settings = gateway_settings(emulator.url)
        async with serving(create_app(settings)) as url, httpx.AsyncClient(timeout=60) as http:
            gateway = Gateway(url, http, settings)
            print(f"emulator page size {emulator.state.page_size}\n")
            print(f"{'shape':28} {'cold':>6} {'warm':>6} {'calls':>6} {'warm/calls':>11}")
            ratios = []
            for shape in SHAPES:
                cold, _ = await _run(gateway, emulator, shape)
                warm, calls = await _run(gateway, emulator, shape)
                ratio = warm / calls
                ratios.append(ratio)
                mark = "" if shape.tight else "  (worst case charged)"
                print(f"{shape.name:28} {cold:6} {warm:6} {calls:6} {ratio:11.2f}{mark}")
            print(f"\nwarm/calls: min {min(ratios):.2f}, max {max(ratios):.2f}")
            return min(ratios) >= 1.0
