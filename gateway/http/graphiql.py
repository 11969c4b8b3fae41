"""GraphiQL served by the gateway itself: our page, and the browser bundles it loads.

The bundles are the npm packages pinned in `graphiql/package.json` (installed by
`npm ci --prefix graphiql`), served from `Settings.graphiql_assets_dir`, a `node_modules`
directory. Only the files of `ASSETS` are served, each at a URL naming its package and
version, so the browser may cache it for good. Without them the page says how to install
them and offers the same files, pinned and integrity-checked, from unpkg.com.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from gateway.http.demo_guide import DemoGuide

ASSETS_PATH = "/graphiql/assets"
CDN = "https://unpkg.com"
# The repository's own install, for `make run` and the tests (empty setting).
REPO_ASSETS_DIR = Path(__file__).resolve().parents[2] / "graphiql" / "node_modules"
# The URLs carry the version, so a file never changes under its URL.
IMMUTABLE = "public, max-age=31536000, immutable"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


@dataclass(frozen=True)
class Asset:
    """One file of a pinned npm package, and its Subresource Integrity digest."""

    package: str
    version: str
    file: str  # inside the package
    media_type: str
    sha384: str

    @property
    def url_path(self) -> str:
        """`package@version/file`: the same path on unpkg and under `ASSETS_PATH`."""
        return f"{self.package}@{self.version}/{self.file}"

    def on_disk(self, assets_dir: Path) -> Path:
        return assets_dir / self.package / self.file


# In load order. The versions are graphiql/package.json's (a test compares them) and the
# digests those of the published files, so a CDN copy must be byte for byte what npm
# installed locally.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "react",
        "18.3.1",
        "umd/react.production.min.js",
        JS,
        "DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    Asset(
        "react-dom",
        "18.3.1",
        "umd/react-dom.production.min.js",
        JS,
        "gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    Asset(
        "graphiql",
        "3.9.0",
        "graphiql.min.js",
        JS,
        "8NGfVj4CVlqHajlZj+bPJT4thxPMHMJYn7DWK2CvtopLd02E7qsPHazniBYvVjOO",
    ),
    Asset(
        "graphiql",
        "3.9.0",
        "graphiql.min.css",
        CSS,
        "QMux00XgRtwRLSYIY3kw2rj1ovk5AuuliAchk+HSQbqdbGFnz9GYuqIlOqxhwCE2",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.6",
        "dist/index.umd.js",
        JS,
        "5p6hGdlOTvUy6Wf0GauxCz+xM9YB/YYvcGG+bf9msr2eyd+KVIxgRkepHgUijedJ",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "3.2.6",
        "dist/style.css",
        CSS,
        "YN9MumWidbWKuNj8VfH5ggrFvm9YqAoIOMnKYpeGL3dr7Eg1qnQ+SAqSthdNZCjz",
    ),
)
_BY_URL_PATH = {asset.url_path: asset for asset in ASSETS}


def assets_dir(setting: str) -> Path:
    """Where the bundles are: the setting, or the repository's own install."""
    return Path(setting) if setting else REPO_ASSETS_DIR


def missing_assets(directory: Path) -> list[str]:
    """The pinned files `directory` lacks; a package of another version counts as missing."""
    missing = []
    for asset in ASSETS:
        installed = _installed_version(directory / asset.package / "package.json")
        if installed != asset.version or not asset.on_disk(directory).is_file():
            missing.append(asset.url_path)
    return missing


def _installed_version(package_json: Path) -> str | None:
    try:
        version = json.loads(package_json.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


class GraphiQL:
    """The page (`page`, for `GET /graphql` from a browser) and its assets (`asset`)."""

    def __init__(self, assets: Path, guide: DemoGuide | None) -> None:
        self.assets = assets
        self.guide = guide

    def page(self, request: Request) -> Response:
        from_cdn = request.query_params.get("assets") == "cdn"
        missing = [] if from_cdn else missing_assets(self.assets)
        if missing:
            body = _ABSENT.replace("{{missing}}", escape(", ".join(missing)))
        else:
            base = CDN if from_cdn else ASSETS_PATH
            body = _render(_tags(base, cross_origin=from_cdn), self._config(request))
        # The demo page carries bearer tokens: no cache may keep it.
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    async def asset(self, request: Request) -> Response:
        asset = _BY_URL_PATH.get(request.path_params["path"])
        if asset is None or not asset.on_disk(self.assets).is_file():
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            asset.on_disk(self.assets),
            media_type=asset.media_type,
            headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
        )

    def _config(self, request: Request) -> dict[str, object]:
        guide = self.guide
        if guide is None:
            return {"endpoint": request.url.path, "storageNamespace": "chargeye-gateway"}
        return {
            "endpoint": request.url.path,
            "storageNamespace": f"chargeye-demo-{guide.boot_id}",
            "tabs": guide.tabs(),
            "tenants": [
                {"name": t.name, "id": t.id, "headers": guide.authorization(t)}
                for t in guide.tenants
            ],
            "hideFederation": True,
        }


def _tags(base: str, *, cross_origin: bool) -> str:
    # Integrity is checked on local files too: the page runs only the files pinned here.
    extra = ' crossorigin="anonymous"' if cross_origin else ""
    tags = []
    for asset in ASSETS:
        url = escape(f"{base}/{asset.url_path}")
        sri = f'integrity="sha384-{asset.sha384}"{extra}'
        if asset.media_type == CSS:
            tags.append(f'<link rel="stylesheet" href="{url}" {sri}>')
        else:
            tags.append(f'<script src="{url}" {sri}></script>')
    return "\n    ".join(tags)


def _render(tags: str, config: dict[str, object]) -> str:
    # JSON inside <script> must not close the element: escape what HTML would parse.
    data = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e")
    data = data.replace("&", "\\u0026")
    return _TEMPLATE.replace("{{assets}}", tags).replace("{{config}}", data)


def _template(name: str) -> str:
    return resources.files("gateway.http").joinpath(name).read_text(encoding="utf-8")


_TEMPLATE = _template("graphiql.html")
_ABSENT = _template("graphiql-absent.html")
