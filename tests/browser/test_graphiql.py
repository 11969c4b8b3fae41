"""GraphiQL in a real headless Chromium, with the internet out of reach.

The gateway and the emulator are served on loopback sockets; every request the page makes
to any other host is aborted and recorded, and the test asserts there was none: GraphiQL
needed nothing from outside. Then it runs the Dashboard tab as a person would (the demo
token is preloaded) and reads real emulator data from the result pane, switches tenant
in the Demo tenants pane, and runs it again. A second test runs the Live tab, a
subscription over graphql-sse, watches its events arrive and stops it.

Runs under `make test-browser` (Debian's /usr/bin/chromium; playwright downloads nothing).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, async_playwright
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.http.demo_guide import DemoGuide, DemoTenant
from gateway.live import LiveHub
from tests.gateway.conftest import gateway_settings
from tests.support import RunningEmulator, serving

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LOOPBACK = {"127.0.0.1", "localhost"}
HOUR = 3600.0
WAIT_S = 20.0  # a bound for a hung test, never a measure of speed
RESULT_TEXT = "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


def demo_guide(emulator: RunningEmulator) -> DemoGuide:
    """As `python -m gateway demo` builds it: every tenant with its token, the CPO first."""
    tokens = emulator.state.access_tokens
    first = [emulator.tenant_a]
    order = first + [t.id for t in emulator.state.tenants if t.id not in first]
    names = {t.id: t.name for t in emulator.state.tenants}
    return DemoGuide(tuple(DemoTenant(names[i], i, tokens[i]) for i in order))


@pytest.fixture
async def gateway_url(emulator: RunningEmulator) -> AsyncIterator[str]:
    app = create_app(gateway_settings(emulator.url), demo=demo_guide(emulator))
    async with serving(app) as url:
        yield url


@pytest.fixture
async def live_gateway(emulator: RunningEmulator) -> AsyncIterator[tuple[str, Starlette]]:
    """The demo gateway with polls driven by the test: one when a subscription joins, then
    one per `poll_round()` (after the test steps the emulator's clock)."""
    settings = gateway_settings(
        emulator.url,
        live_status_interval_s=HOUR,
        live_power_interval_s=HOUR,
        live_errors_interval_s=HOUR,
    )
    app = create_app(settings, demo=demo_guide(emulator))
    async with serving(app) as url:
        yield url, app


async def result_of_run(page: Page) -> dict[str, Any]:
    """Press GraphiQL's run button and return the JSON the result pane then shows."""
    await page.evaluate(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.setValue('')"
    )
    await page.locator(".graphiql-execute-button").click()
    pane = page.locator(".result-window .CodeMirror")
    # CodeMirror draws only the lines in view: read the whole text from its editor object.
    await page.wait_for_function(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"
        ".includes('\"data\"')"
    )
    text = await pane.evaluate("(element) => element.CodeMirror.getValue()")
    result: dict[str, Any] = json.loads(text)
    return result


def names_seen_by(emulator: RunningEmulator, tenant: str) -> set[str]:
    return {loc.name for loc in emulator.state.network.visible_locations(tenant) if loc.name}


async def test_graphiql_runs_the_dashboard_offline_with_the_demo_token(
    gateway_url: str, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    outside: list[str] = []
    errors: list[str] = []

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            await context.route("**/*", only_loopback)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{gateway_url}/", wait_until="load")  # `/` redirects to GraphiQL
            assert urlsplit(page.url).path == "/graphql"
            # By `load` every script and stylesheet of the page has been asked for.
            assert outside == [], f"the page reached outside loopback: {outside}"
            await page.locator(".graphiql-container").wait_for()

            # The first tab is the README's Dashboard, with the CPO's token in its headers.
            assert "query Dashboard" in await page.evaluate(
                "() => document.querySelector('.graphiql-query-editor .CodeMirror')"
                ".CodeMirror.getValue()"
            )
            dashboard = await result_of_run(page)
            assert "errors" not in dashboard, dashboard
            shown = {node["name"] for node in dashboard["data"]["locations"]["nodes"]}
            assert shown and shown <= names_seen_by(emulator, emulator.tenant_a)
            first_name = dashboard["data"]["locations"]["nodes"][0]["name"]
            # Bring the first site into view (CodeMirror draws only the lines in view), so
            # the screenshot shows it: real emulator data, drawn in the result pane.
            await page.locator(".result-window .CodeMirror").evaluate(
                """(element, name) => {
                    const editor = element.CodeMirror;
                    const lines = editor.getValue().split("\\n");
                    const line = lines.findIndex((text) => text.includes(name));
                    editor.scrollIntoView({ line, ch: 0 }, 200);
                }""",
                first_name,
            )
            await page.locator(".result-window").get_by_text(first_name).first.wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "graphiql-dashboard.png"
            await page.screenshot(path=str(shot))

            # The docs list the root fields without the federation internals.
            await page.get_by_role("button", name="Show Documentation Explorer").click()
            docs = page.locator(".graphiql-doc-explorer")
            await docs.get_by_role("link", name="Query").first.click()
            await docs.get_by_text("networkSummary").first.wait_for()
            root_fields = await docs.inner_text()
            assert "_entities" not in root_fields and "_service" not in root_fields

            # The Demo tenants pane puts another tenant's token in the headers.
            await page.get_by_role("button", name="Show Demo tenants").click()
            await page.locator(f'[data-tenant="{emulator.tenant_b}"]').click()
            headers = await page.evaluate(
                "() => document.querySelector("
                "'.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror'"
                ").CodeMirror.getValue()"
            )
            assert json.loads(headers) == {"Authorization": f"Bearer {emulator.token_b}"}
            partner = await result_of_run(page)
            partner_names = {node["name"] for node in partner["data"]["locations"]["nodes"]}
            assert partner_names <= names_seen_by(emulator, emulator.tenant_b)
            assert partner_names != shown
        finally:
            await browser.close()

    assert outside == [], f"the page reached outside loopback: {outside}"
    assert errors == []
    with capsys.disabled():
        print(f"\nGraphiQL screenshot: {shot}")


async def offline_page(browser: Browser, outside: list[str], errors: list[str]) -> Page:
    """A page that may reach loopback only; what it tried beyond goes to `outside`."""

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    await context.route("**/*", only_loopback)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def live_subscriptions(metrics: str) -> float:
    found = re.search(r"^gateway_live_subscriptions (\S+)$", metrics, flags=re.MULTILINE)
    assert found, "gateway_live_subscriptions not in /metrics"
    return float(found.group(1))


async def test_graphiql_runs_the_live_subscription_and_stops_it(
    live_gateway: tuple[str, Starlette],
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, app = live_gateway
    hub: LiveHub = app.state.live
    outside: list[str] = []
    errors: list[str] = []
    async with (
        async_playwright() as playwright,
        httpx.AsyncClient(timeout=WAIT_S) as admin,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = await offline_page(browser, outside, errors)
            await page.goto(f"{url}/graphql", wait_until="load")
            await page.locator(".graphiql-container").wait_for()
            await page.locator(".graphiql-tab-button", has_text="Live").click()
            # GraphiQL reads the tab's operation a moment after the editor changes (debounced);
            # run before that and it would send the previous tab's operation name.
            await page.wait_for_function(
                "() => document.querySelector('.graphiql-query-editor .CodeMirror')"
                ".CodeMirror.operationName === 'Live'"
            )
            await page.locator(".graphiql-execute-button").click()

            # includeInitial: each EVSE's state comes at once, the pane showing the latest.
            # An event, or the errors of a subscription that went wrong (shown, not waited out).
            await page.wait_for_function(f'() => /"(data|errors)"/.test(({RESULT_TEXT})())')
            first = json.loads(await page.evaluate(RESULT_TEXT))
            assert "errors" not in first, first
            assert first["data"]["evseStatusChanges"]["evse"]["station"]["name"]
            metrics = (await admin.get(f"{url}/metrics")).text
            assert live_subscriptions(metrics) == 1 == hub.subscription_count

            # The world moves (the emulator's clock, stepped through its admin hook) until an
            # EVSE changes: a pushed event, not an initial one, reaches the pane.
            changed = None
            for _ in range(100):
                advance = f"{emulator.url}/_emulator/clock/advance"
                (await admin.post(advance, json={"steps": 1})).raise_for_status()
                await asyncio.wait_for(hub.poll_round(), WAIT_S)
                shown = json.loads(await page.evaluate(RESULT_TEXT) or "{}")
                event = (shown.get("data") or {}).get("evseStatusChanges") or {}
                if event.get("initial") is False:
                    changed = event
                    break
            assert changed is not None, "no EVSE changed in 100 steps"
            assert changed["previousStatus"] is not None or changed["previousTxId"] is not None
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "graphiql-live.png"
            await page.screenshot(path=str(shot))

            # Stop (the run button while subscribed): the request is aborted, and the
            # gateway's subscription ends with it.
            await page.locator(".graphiql-execute-button").click()

            async def until_none_left() -> None:  # the count is the server's, over HTTP
                while live_subscriptions((await admin.get(f"{url}/metrics")).text) != 0:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(until_none_left(), WAIT_S)
            assert hub.subscription_count == 0 and hub.cohort_count == 0
        finally:
            await browser.close()

    assert outside == [], f"the page reached outside loopback: {outside}"
    assert errors == []
    with capsys.disabled():
        print(f"\nGraphiQL live screenshot: {shot}")
