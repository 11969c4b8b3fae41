"""A short soak: 2,000 requests of two tenants, mixing normal, hostile and faulty ones, at
bounded concurrency. The process stays up, every answer has data or coded errors, no
answer shows another tenant's rows, and memory comes back near where it started.

The longer variant is `python -m bench soak`.
"""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter
from typing import Any

import pytest

from gateway.emulator import Fault
from tests.gateway.conftest import Gateway
from tests.gateway.test_hostile_corpus import CASES
from tests.support import RunningEmulator

REQUESTS = 2000
CONCURRENCY = 16
NORMAL = "{ locations(first: 4) { nodes { id name tenantIds } } }"
FAULTS = [Fault(status=503, retry_after=0), Fault(kind="drop"), Fault(kind="malformed")]
HOSTILE = [case for case in CASES if case.body is None and case.method == "POST"]


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def soak(gateway: Gateway, emulator: RunningEmulator, n: int) -> Counter[str]:
    rng = random.Random(7)
    tokens = {emulator.token_a: emulator.tenant_a, emulator.token_b: emulator.tenant_b}
    visible = {
        tenant: {loc.uid for loc in emulator.state.network.visible_locations(tenant)}
        for tenant in tokens.values()
    }
    seen: Counter[str] = Counter()
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        token = rng.choice(list(tokens))
        kind = rng.choices(["normal", "hostile", "faulty"], weights=[6, 2, 2])[0]
        async with slots:
            if kind == "hostile":
                case = rng.choice(HOSTILE)
                response = await gateway.post(case.query or "", case.variables, token=token)
            else:
                if kind == "faulty":
                    emulator.state.inject("getLocations", rng.choice(FAULTS))
                response = await gateway.post(NORMAL, token=token)
        assert response.status_code in (200, 400), response.text[:300]
        body: dict[str, Any] = response.json()
        for error in body.get("errors", ()):
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
        if kind != "hostile" and body.get("data") and body["data"].get("locations"):
            tenant = tokens[token]
            for node in body["data"]["locations"]["nodes"]:
                assert node["id"] in visible[tenant] and tenant in node["tenantIds"]
        seen[kind if "errors" not in body else kind + " with errors"] += 1

    await asyncio.gather(*(one(i) for i in range(n)))
    return seen


@pytest.mark.timeout(300)
async def test_a_short_soak_stays_up_correct_and_tenant_clean(
    gateway: Gateway, emulator: RunningEmulator
) -> None:
    await soak(gateway, emulator, 200)  # warm up: caches, pools, first imports
    gc.collect()
    before = rss_kib()
    seen = await soak(gateway, emulator, REQUESTS)
    gc.collect()
    after = rss_kib()
    assert sum(seen.values()) == REQUESTS
    assert seen["normal"] > REQUESTS // 3  # most normal answers were whole
    assert (await gateway.query("{ __typename }"))["data"] == {"__typename": "Query"}
    assert after - before < 40 * 1024, f"RSS grew from {before} to {after} KiB"
