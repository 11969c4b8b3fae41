"""The graphql-http server audits (MUST, SHOULD and MAY) all pass against `/graphql`."""

from __future__ import annotations

import strawberry.asgi

from tests.http.audit import LEVELS, render, run_audit, tally
from tests.http.conftest import Gateway
from tests.http.toy import SCHEMA, toy_app
from tests.support import serving


async def test_every_audit_is_ok_on_the_gateway(gateway: Gateway) -> None:
    rows = await run_audit(gateway.url)
    assert all(row["status"] == "ok" for row in rows), render(rows)
    assert all(tally(rows)[level][1] > 0 for level in LEVELS), render(rows)
    assert gateway.upstream_calls() == 0  # the audits only ask for `__typename` and `__type`


async def test_every_audit_is_ok_on_the_bare_view() -> None:
    # The view and middleware alone, over the toy schema: no upstream, no app wiring.
    async with serving(toy_app()) as url:
        rows = await run_audit(f"{url}/graphql")
    assert all(row["status"] == "ok" for row in rows), render(rows)


async def test_audit_catches_a_default_strawberry_endpoint() -> None:
    # Proves the runner can fail: plain Strawberry answers request errors with 200.
    async with serving(strawberry.asgi.GraphQL(SCHEMA)) as url:
        rows = await run_audit(url)
    failed = {row["id"] for row in rows if row["status"] != "ok"}
    assert {"22EB", "556A", "74FF", "86EE"} <= failed
