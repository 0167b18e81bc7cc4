"""The live dashboards: one page per pipeline, one per `dashboard` block, and an overview.

`Dashboards(runtime)` is a server `Component` (see `flowc.runtime.server`): mount it with
`build_app(runtime, components=[..., Dashboards(runtime)])`. It serves

| path | page |
| --- | --- |
| `/` | every pipeline at a glance: status, records per minute, rejected, last error, a sparkline |
| `/pipelines/{name}` | one pipeline: live charts, history (1h/24h/7d), records, dead letters |
| `/dashboards/{name}` | a `dashboard` block: the charts and tables it declares |
| `/static/{file}` | the pages' CSS and JS, and plotly.js from the installed `plotly` package |

The pages are rendered here (jinja2) from the manifest: titles, navigation, table headers,
chart frames. Their data comes from the REST API (`/api/...`) in the browser: records,
metrics and history by `fetch`, new batches by `EventSource` on each pipeline's stream, so
the pages show exactly what the API shows and grow without a reload. plotly.js draws the
charts; it is served from the `plotly` wheel, never from a CDN, so the pages work offline.

Where the server wants a token (`flowc.runtime.api_auth`: its guard covers these pages as
it covers the API), a page opened with `?token=...` carries it on its links, its static
files, and (in the browser) its fetches and streams.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from flowc.compiler.manifest import Dashboard, DashboardItem, Pipeline
from flowc.runtime.app import Runtime

API_PREFIX = "/api"
POLL_SECONDS = 3.0  # how often the overview and the pipeline pages re-read the metrics
DEFAULT_REFRESH_SECONDS = 60.0  # a dashboard without `refresh:` re-reads its history this often
RECORDS_SHOWN = 100  # records in a pipeline page's table
HISTORY_RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
NUMERIC = ("int", "float")

_WEB = "flowc.runtime.web"
_IMMUTABLE = "public, max-age=31536000, immutable"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


class Dashboards:
    """The server component serving the dashboard pages and their static files."""

    def __init__(self, runtime: Runtime) -> None:
        self.manifest = runtime.compiled.manifest
        self.pipelines = {p.name: p for p in self.manifest.pipelines}
        self.boards = {d.name: d for d in self.manifest.dashboards}
        self.assets = StaticAssets()
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader(_WEB, "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def routes(self) -> list[BaseRoute]:
        get = ["GET", "HEAD"]
        return [
            Route("/", self.overview, methods=get, name="dashboards:overview"),
            Route("/pipelines/{name}", self.pipeline, methods=get, name="dashboards:pipeline"),
            Route("/dashboards/{name}", self.dashboard, methods=get, name="dashboards:dashboard"),
            Route("/static/{file}", self.static, methods=get, name="dashboards:static"),
        ]

    async def start(self) -> None:
        """Compress the static files ahead of the first page (plotly.js takes a moment)."""
        await asyncio.to_thread(self.assets.load_all)

    async def stop(self) -> None:
        return None

    # ---- pages ----

    async def overview(self, request: Request) -> Response:
        rows = [_pipeline_view(p) for p in self.manifest.pipelines]
        brief = [{k: r[k] for k in ("name", "persisted", "time")} for r in rows]
        config = {"page": "overview", "pipelines": brief}
        return self._render(request, "overview.html", config, pipelines=rows)

    async def pipeline(self, request: Request) -> Response:
        spec = self.pipelines.get(request.path_params["name"])
        if spec is None:
            return self._not_found(request, "pipeline", request.path_params["name"])
        view = _pipeline_view(spec)
        config = {
            "page": "pipeline",
            "pipeline": view,
            "records": min(RECORDS_SHOWN, spec.cache),  # the API reads no more than the cache
            "ranges": HISTORY_RANGES,
        }
        return self._render(request, "pipeline.html", config, p=view, ranges=HISTORY_RANGES)

    async def dashboard(self, request: Request) -> Response:
        board = self.boards.get(request.path_params["name"])
        if board is None:
            return self._not_found(request, "dashboard", request.path_params["name"])
        items = [self._item_view(board, i, item) for i, item in enumerate(board.items)]
        refresh = board.refresh_seconds or DEFAULT_REFRESH_SECONDS
        config = {"page": "dashboard", "name": board.name, "refresh": refresh, "items": items}
        return self._render(
            request, "dashboard.html", config, board=board, items=items, refresh=_duration(refresh)
        )

    async def static(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["file"])  # in memory since `start`
        if asset is None:
            return Response("not found\n", 404, media_type="text/plain")
        versioned = request.query_params.get("v") == asset.etag
        headers = {
            "ETag": f'"{asset.etag}"',
            "Cache-Control": _IMMUTABLE if versioned else "no-cache",
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=asset.media_type)
        return Response(body, headers=headers, media_type=asset.media_type)

    # ---- helpers ----

    def _item_view(self, board: Dashboard, index: int, item: DashboardItem) -> dict[str, Any]:
        options = item.options
        source = self.pipelines[options["from"]]
        types = {f.name: f.type for f in source.output}
        view: dict[str, Any] = {
            "id": f"{board.name}-{index}",
            "kind": item.kind,
            "from": source.name,
            "time": source.time_column,
            "persisted": source.storage is not None,
            "cache": source.cache,
        }
        if item.kind == "table":
            fields = options.get("fields") or [f.name for f in source.output]
            last = int(options.get("last") or source.cache)
            view |= {
                "fields": [{"name": f, "type": types.get(f, "json")} for f in fields],
                "last": last,
                "title": options.get("title") or f"{source.name}: the last {last} records",
            }
            return view
        x, y, series = options["x"], options["y"], options.get("series")
        seconds = options.get("range")
        chart = item.chart or "line"
        caption = f"{source.name}, the last {_duration(seconds)}" if seconds else source.name
        caption += f": {y} over {x}"
        if series:
            caption += f", one {'line' if chart in ('line', 'area') else 'colour'} per {series}"
        view |= {
            "chart": chart,
            "x": x,
            "y": y,
            "series": series,
            "x_type": types.get(x, "json"),
            "range": seconds,
            "title": options.get("title") or (f"{y} by {series}" if series else y),
            "caption": caption,
        }
        return view

    def _render(
        self, request: Request, template: str, config: dict[str, Any], **context: Any
    ) -> HTMLResponse:
        token = request.query_params.get("token")

        def link(path: str) -> str:
            return f"{path}?{urlencode({'token': token})}" if token else path

        def static(name: str) -> str:
            url = self.assets.url(name)
            return f"{url}&{urlencode({'token': token})}" if token else url

        config = {"api": API_PREFIX, "poll": POLL_SECONDS, **config}
        html = self.env.get_template(template).render(
            program=Path(self.manifest.root).name,
            dashboards=self.manifest.dashboards,
            link=link,
            static=static,
            config=config,
            **context,
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def _not_found(self, request: Request, kind: str, name: str) -> HTMLResponse:
        known = sorted(self.pipelines if kind == "pipeline" else self.boards)
        response = self._render(
            request, "not_found.html", {"page": "error"}, kind=kind, name=name, known=known
        )
        response.status_code = 404
        return response


def _pipeline_view(spec: Pipeline) -> dict[str, Any]:
    """What the pages say about a pipeline, from its manifest entry."""
    numeric = [f.name for f in spec.output if f.type.rstrip("?") in NUMERIC]
    floats = [f.name for f in spec.output if f.type.rstrip("?") == "float"]
    return {
        "name": spec.name,
        "upstream": spec.upstream,
        "upstream_kind": spec.upstream_kind,
        "downstream": spec.downstream,
        "fields": [{"name": f.name, "type": f.type} for f in spec.output],
        "numeric": numeric,
        "default": next(iter(floats + numeric), None),  # what the live chart shows first
        "time": spec.time_column,
        "persisted": spec.storage is not None,
        "table": spec.storage.table if spec.storage else None,
        "sinks": spec.sinks,
        "cache": spec.cache,
    }


def _duration(seconds: float | None) -> str:
    """`600.0` -> `10m`: a duration as the language writes it."""
    if not seconds:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


class StaticAssets:
    """The pages' static files: ours from `flowc.runtime.web/static`, plotly.js from the
    installed `plotly` package. Loaded and gzipped once, then served from memory."""

    def __init__(self) -> None:
        self.files = {path.name: path for path in _package_dir(_WEB).joinpath("static").iterdir()}
        self.files["plotly.min.js"] = _package_dir("plotly") / "package_data" / "plotly.min.js"
        self._loaded: dict[str, Asset] = {}

    def get(self, name: str) -> Asset | None:
        if name not in self.files:
            return None
        if name not in self._loaded:
            path = self.files[name]
            body = path.read_bytes()
            self._loaded[name] = Asset(
                body=body,
                gzipped=gzip.compress(body, 6, mtime=0),
                media_type=_MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                etag=hashlib.sha256(body).hexdigest()[:16],
            )
        return self._loaded[name]

    def load_all(self) -> None:
        for name in self.files:
            self.get(name)

    def url(self, name: str) -> str:
        """The file's URL, versioned by its content so browsers may keep it for good."""
        asset = self.get(name)
        if asset is None:
            raise KeyError(f"no static file {name}")
        return f"/static/{name}?v={asset.etag}"


def _package_dir(package: str) -> Path:
    """An installed package's folder, found without importing it (plotly's Python side is
    not needed, only the JS its wheel ships)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the dashboards need the `{package}` package; install flowc with its dependencies"
        )
    return Path(next(iter(spec.submodule_search_locations)))
