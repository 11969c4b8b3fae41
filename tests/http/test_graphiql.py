"""GraphiQL over plain HTTP: our page, the allowlisted assets, the CDN offer, the demo guide.

The browser test (tests/browser/) shows the page working; these pin what it is made of.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.demo_guide import EXAMPLE_QUERIES, LIVE_EXAMPLE, DemoGuide, DemoTenant
from gateway.http.graphiql import ASSETS, ASSETS_PATH, REPO_ASSETS_DIR, assets_dir
from tests.support import serving

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}
GUIDE = DemoGuide(
    (DemoTenant("Volt Operators", "T-CPO", "token-cpo"), DemoTenant("Roam", "T-EMSP", "token-emsp"))
)

Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client() -> Client:
    """A gateway on loopback (no upstream is called: pages and files only)."""

    @asynccontextmanager
    async def start(
        demo: DemoGuide | None = None, **settings: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(Settings(cursor_secret="test-secret", **settings), demo=demo)
        async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
            yield http

    return start


def page_config(html: str) -> dict[str, Any]:
    found = re.search(r'id="gateway-graphiql-config">(.*?)</script>', html, flags=re.DOTALL)
    assert found, html
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def sri(body: bytes) -> str:
    return base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_page_loads_every_asset_from_the_gateway(client: Client) -> None:
    async with client() as http:
        page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == [f"{ASSETS_PATH}/{asset.url_path}" for asset in ASSETS]
    assert "unpkg" not in page.text and "https://" not in page.text


async def test_each_asset_is_the_pinned_file_with_its_type_and_a_long_cache(
    client: Client,
) -> None:
    async with client() as http:
        for asset in ASSETS:
            response = await http.get(f"{ASSETS_PATH}/{asset.url_path}")
            assert response.status_code == 200, asset.url_path
            assert response.headers["content-type"] == asset.media_type
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert response.headers["x-content-type-options"] == "nosniff"
            # The digest the page's `integrity` attribute names: else the browser refuses it.
            assert sri(response.content) == asset.sha384, asset.url_path


@pytest.mark.parametrize(
    "path",
    [
        "graphiql@3.9.0/package.json",
        "graphiql@3.9.0/graphiql.min.js.map",
        "graphiql/graphiql.min.js",
        "graphiql@0.0.1/graphiql.min.js",
        "graphiql@3.9.0/../../package-lock.json",
        "..%2f..%2fpackage.json",
        "%2e%2e/%2e%2e/graphiql/package.json",
        "react@18.3.1//umd/react.production.min.js",
        "",
    ],
)
async def test_only_the_allowlisted_files_are_served(client: Client, path: str) -> None:
    async with client() as http:
        response = await http.get(f"{ASSETS_PATH}/{path}")
    assert response.status_code == 404


def test_the_pinned_versions_are_those_of_the_lock() -> None:
    manifest = json.loads((ROOT / "graphiql" / "package.json").read_text())
    lock = json.loads((ROOT / "graphiql" / "package-lock.json").read_text())
    for asset in ASSETS:
        assert manifest["dependencies"][asset.package] == asset.version
        assert lock["packages"][f"node_modules/{asset.package}"]["version"] == asset.version


async def test_without_assets_the_page_says_how_to_install_them_and_offers_the_cdn(
    client: Client, tmp_path: Path
) -> None:
    async with client(graphiql_assets_dir=str(tmp_path)) as http:
        absent = await http.get("/graphql", headers=HTML)
        cdn = await http.get("/graphql", params={"assets": "cdn"}, headers=HTML)
        asset = await http.get(f"{ASSETS_PATH}/{ASSETS[0].url_path}")
    assert absent.status_code == 200
    assert "not installed" in absent.text
    assert "npm ci --prefix graphiql" in absent.text and "make run" in absent.text
    assert 'href="?assets=cdn"' in absent.text
    assert "<script" not in absent.text  # it loads nothing it does not have
    assert asset.status_code == 404
    # The CDN page: the same files, pinned versions, checked by the same digests.
    for item in ASSETS:
        tag = f'"https://unpkg.com/{item.url_path}" integrity="sha384-{item.sha384}"'
        assert tag + ' crossorigin="anonymous"' in cdn.text


async def test_a_package_of_another_version_counts_as_absent(
    client: Client, tmp_path: Path
) -> None:
    for asset in ASSETS:
        target = tmp_path / asset.package / asset.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO_ASSETS_DIR / asset.package / asset.file).read_bytes())
        (tmp_path / asset.package / "package.json").write_text('{"version": "0.0.1"}')
    async with client(graphiql_assets_dir=str(tmp_path)) as http:
        page = await http.get("/graphql", headers=HTML)
    assert "not installed" in page.text


def test_the_assets_dir_setting() -> None:
    image_dir = "/opt/gateway/graphiql/node_modules"  # what the Docker image sets
    settings = Settings.from_env({"GATEWAY_GRAPHIQL_ASSETS_DIR": image_dir})
    assert assets_dir(settings.graphiql_assets_dir) == Path(image_dir)
    assert assets_dir(Settings().graphiql_assets_dir) == ROOT / "graphiql" / "node_modules"


async def test_root_redirects_to_graphiql(client: Client) -> None:
    async with client() as http:
        response = await http.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"


async def test_without_graphiql_there_is_no_page_no_asset_and_no_redirect(client: Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    async with client(graphiql=False) as http:
        page = await http.get("/graphql", headers={"accept": browser})
        asset = await http.get(f"{ASSETS_PATH}/{ASSETS[0].url_path}")
        root = await http.get("/")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("application/json")
    assert page.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert asset.status_code == 404 and root.status_code == 404


async def test_the_demo_page_opens_the_readme_queries_with_the_first_tenants_token(
    client: Client,
) -> None:
    async with client(demo=GUIDE) as http:
        config = page_config((await http.get("/graphql", headers=HTML)).text)
    assert [tab["query"] for tab in config["tabs"]] == [*EXAMPLE_QUERIES, LIVE_EXAMPLE]
    for tab in config["tabs"]:
        assert json.loads(tab["headers"]) == {"Authorization": "Bearer token-cpo"}
    assert [(t["name"], t["id"]) for t in config["tenants"]] == [
        ("Volt Operators", "T-CPO"),
        ("Roam", "T-EMSP"),
    ]
    assert json.loads(config["tenants"][1]["headers"]) == {"Authorization": "Bearer token-emsp"}
    assert config["storageNamespace"] == f"chargeye-demo-{GUIDE.boot_id}"
    assert config["hideFederation"] is True


async def test_a_gateway_without_a_demo_offers_no_token_and_no_tabs(client: Client) -> None:
    async with client() as http:
        text = (await http.get("/graphql", headers=HTML)).text
    config = page_config(text)
    assert set(config) == {"endpoint", "storageNamespace"}
    assert "Bearer " not in text.replace("Bearer <token>", "")


def test_each_emulator_boot_has_its_own_storage_namespace() -> None:
    other = DemoGuide((DemoTenant("Volt Operators", "T-CPO", "token-cpo-2"), GUIDE.tenants[1]))
    assert other.boot_id != GUIDE.boot_id
    assert DemoGuide(GUIDE.tenants).boot_id == GUIDE.boot_id


def test_the_demo_tabs_are_the_readme_examples() -> None:
    readme = (ROOT / "README.md").read_text()
    assert list(EXAMPLE_QUERIES) == re.findall(r"```graphql\n(.*?)```", readme, flags=re.DOTALL)
    # The Live tab is the Subscriptions section's example (a plain block: the tests that run
    # every `graphql` block run them as queries).
    subscriptions = readme.split("\n## Subscriptions\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"```\n(subscription .*?)```", subscriptions, flags=re.DOTALL) == [
        LIVE_EXAMPLE
    ]


async def test_a_token_in_the_config_cannot_close_the_script_element(client: Client) -> None:
    hostile = DemoGuide((DemoTenant("</script><script>alert(1)</script>", "T", "tok"),))
    async with client(demo=hostile) as http:
        text = (await http.get("/graphql", headers=HTML)).text
    assert "<script>alert(1)" not in text
    assert page_config(text)["tenants"][0]["name"] == "</script><script>alert(1)</script>"
