"""The dashboard pages, served in process: what each page holds, 404s, tokens, static files.

The pages are frames rendered from the manifest; their data comes from the API in the
browser, which tests/test_browser.py checks against a real `flowc run`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import httpx

from flowc.compiler.checker import check_path, check_text
from flowc.runtime.app import Runtime
from flowc.runtime.dashboards import Dashboards, _package_dir
from flowc.runtime.server import build_app
from flowc.runtime.store.duckdb_store import DuckDBStore

T = TypeVar("T")
QUICKSTART = Path(__file__).parent.parent / "examples" / "quickstart.flow"


# ---- a small reading of the HTML ----


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Page(HTMLParser):
    """Every element of a page with its attributes and the text inside it."""

    VOID = frozenset({"meta", "link", "input", "br", "img", "hr"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def text(self, tag: str, **attrs: str) -> str:
        return " ".join(self.one(tag, **attrs).text.split())

    def config(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.one("script", id="flowc-config").text)
        return loaded


# ---- serving a program in process ----


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, 60))


@asynccontextmanager
async def served(
    tmp_path: Path, program: str | None = None, *, guard: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The program (the quickstart by default) served with the dashboards; with `guard`,
    the server wants that token (as it does when listening beyond loopback)."""
    result = check_text(program, "board.flow") if program else check_path(QUICKSTART)
    runtime = await Runtime.start(result, DuckDBStore(tmp_path / "store.duckdb"))
    try:
        app = build_app(
            runtime,
            spool_dir=tmp_path / "spool",
            components=[Dashboards(runtime)],
            require_token=guard,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client
    finally:
        await runtime.close()


def pages(
    tmp_path: Path, *paths: str, program: str | None = None, **options: Any
) -> list[httpx.Response]:
    async def scenario() -> list[httpx.Response]:
        async with served(tmp_path, program, **options) as client:
            return [await client.get(path) for path in paths]

    return run(scenario())


def ok_page(response: httpx.Response) -> Page:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


# ---- the pages ----


def test_overview_lists_every_pipeline_and_dashboard(tmp_path: Path) -> None:
    (response,) = pages(tmp_path, "/")
    page = ok_page(response)
    assert page.text("title") == "Pipelines · quickstart.flow · flowc"
    assert page.text("h1") == "Pipelines"
    rows = page.all("tr")
    names = [r.attrs["data-pipeline"] for r in rows if "data-pipeline" in r.attrs]
    assert names == ["readings", "per_minute", "hot_readings"]
    links = [a.attrs["href"] for a in page.all("a")]
    assert {"/pipelines/readings", "/pipelines/per_minute", "/pipelines/hot_readings"} <= set(links)
    assert "/dashboards/quickstart" in links
    for name in names:
        page.one("div", data_spark=name)
    headers = [" ".join(th.text.split()) for th in page.all("th", scope="col")]
    assert headers[:6] == ["Pipeline", "Status", "Records/min", "In", "Out", "Rejected"]
    config = page.config()
    assert config["page"] == "overview"
    assert config["api"] == "/api"
    assert config["pipelines"][2] == {"name": "hot_readings", "persisted": False, "time": "ts"}


def test_pipeline_page_has_live_charts_history_records_and_dead_letters(tmp_path: Path) -> None:
    (response,) = pages(tmp_path, "/pipelines/readings")
    page = ok_page(response)
    assert page.text("title") == "readings · quickstart.flow · flowc"
    assert page.text("h1").startswith("readings")
    for section in ("Live", "History", "Records", "Dead letters"):
        assert section in [" ".join(h.text.split()) for h in page.all("h2")]
    page.one("div", id="live-values")
    page.one("div", id="live-batches")
    page.one("div", id="history")
    ranges = [i.attrs["value"] for i in page.all("input", name="range")]
    assert ranges == ["1h", "24h", "7d"]
    assert "checked" in page.one("input", value="1h").attrs
    options = [" ".join(o.text.split()) for o in page.all("option")]
    numeric = ["id", "temperature", "humidity", "battery_v", "temp_f"]
    assert options == [*numeric, "records", *(f"average {f}" for f in numeric)]
    assert "selected" in page.all("option", value="temperature")[0].attrs
    records = page.one("table", id="records")
    assert records.attrs["data-limit"] == "100"
    th = [" ".join(e.text.split()) for e in page.all("th", scope="col")]
    assert th[:4] == ["id int", "site str", "sensor str", "temperature float"]
    assert "humidity int?" in th
    page.one("table", id="dead-letters")
    assert "/pipelines/per_minute" in [a.attrs["href"] for a in page.all("a")]
    config = page.config()
    assert config["page"] == "pipeline"
    assert config["pipeline"]["name"] == "readings"
    assert config["pipeline"]["time"] == "ts"
    assert config["records"] == 100
    assert config["ranges"] == {"1h": 3600, "24h": 86400, "7d": 604800}


def test_memory_only_pipeline_says_it_has_no_history(tmp_path: Path) -> None:
    (response,) = pages(tmp_path, "/pipelines/hot_readings")
    page = ok_page(response)
    assert not page.all("div", id="history")
    assert "memory only" in page.text("main")
    assert "persist off" in page.text("main")
    assert page.config()["pipeline"]["persisted"] is False


def test_dashboard_page_has_what_the_block_declares(tmp_path: Path) -> None:
    (response,) = pages(tmp_path, "/dashboards/quickstart")
    page = ok_page(response)
    assert page.text("h1") == "Quickstart: three synthetic sensors"
    assert page.text("title") == "Quickstart: three synthetic sensors · quickstart.flow · flowc"
    assert "every 2s" in page.text("p", class_="lede")
    assert len(page.all("section")) == 3
    assert len(page.all("div", class_="chart")) == 2
    line, bar = (" ".join(f.text.split()) for f in page.all("figcaption"))
    assert line == (
        "Line chart of readings, the last 10m: temperature over ts, one line per sensor"
    )
    assert bar.startswith("Bar chart of per_minute, the last 1h: samples over bucket")
    table = page.one("table", class_="records")
    assert table.attrs["data-limit"] == "15"
    columns = [" ".join(th.text.split()) for th in page.all("th", scope="col")]
    assert columns == ["ts", "sensor", "temperature", "temp_f", "status"]
    nav = page.one("a", href="/dashboards/quickstart")
    assert nav.attrs["aria-current"] == "page"
    config = page.config()
    assert config["refresh"] == 2.0
    first, second, third = config["items"]
    caption = "readings, the last 10m: temperature over ts, one line per sensor"
    assert first["caption"] == caption
    assert first | {"caption": ""} == {
        "id": "quickstart-0", "kind": "chart", "chart": "line", "from": "readings",
        "time": "ts", "persisted": True, "cache": 200, "x": "ts", "y": "temperature",
        "series": "sensor", "x_type": "timestamp", "range": 600.0, "title": "temperature by sensor",
        "caption": "",
    }  # fmt: skip
    assert second["from"] == "per_minute"
    assert second["range"] == 3600.0
    assert third["kind"] == "table"
    assert third["last"] == 15
    assert [f["name"] for f in third["fields"]] == [h.text for h in page.all("th", scope="col")]


BOARD = """\
source s: generate {
  every: 1h
  fields { n: { sequence: 1 }, ts: { now: true } }
}

pipeline numbers from s {
  persist off
}

dashboard odd {
  title: "Odd <b>&</b> \\"quoted\\""
  chart scatter { from: numbers, x: ts, y: n, title: "The n's" }
  table { from: numbers }
}
"""


def test_titles_are_escaped_and_defaults_are_filled_in(tmp_path: Path) -> None:
    (response,) = pages(tmp_path, "/dashboards/odd", program=BOARD)
    assert "<b>&</b>" not in response.text
    assert "Odd &lt;b&gt;&amp;&lt;/b&gt;" in response.text
    page = ok_page(response)
    assert page.text("h1") == 'Odd <b>&</b> "quoted"'
    assert [" ".join(h.text.split()) for h in page.all("h2")] == [
        "The n's",
        "numbers: the last 100 records",
    ]
    chart, table = page.config()["items"]
    assert chart["chart"] == "scatter"
    assert chart["range"] is None
    assert table["last"] == 100  # the pipeline's cache
    assert [f["name"] for f in table["fields"]] == ["n", "ts"]
    assert page.config()["refresh"] == 60.0  # no `refresh:`: the default


def test_unknown_pipeline_or_dashboard_is_a_404_page(tmp_path: Path) -> None:
    missing_pipeline, missing_board = pages(tmp_path, "/pipelines/nope", "/dashboards/nope")
    for response, kind, known in (
        (missing_pipeline, "pipeline", "/pipelines/readings"),
        (missing_board, "dashboard", "/dashboards/quickstart"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        page = Page(response.text)
        assert page.text("h1") == f"No {kind} nope"
        assert known in [a.attrs["href"] for a in page.all("a")]
        assert not [s for s in page.all("script") if "src" in s.attrs]


# ---- tokens ----


def test_behind_the_token_guard_pages_pass_the_token_on(tmp_path: Path) -> None:
    bare, query, static = run(_token_requests(tmp_path))
    assert bare.status_code == 401
    page = ok_page(query)
    links = {a.attrs["href"] for a in page.all("a")}
    assert "/pipelines/readings?token=s%26cret" in links
    assert "/dashboards/quickstart?token=s%26cret" in links
    sources = [s.attrs["src"] for s in page.all("script") if "src" in s.attrs]
    assert sources
    assert all(src.endswith("&token=s%26cret") for src in sources)
    assert static.status_code == 200


async def _token_requests(tmp_path: Path) -> list[httpx.Response]:
    async with served(tmp_path, guard="s&cret") as client:
        page = await client.get("/", params={"token": "s&cret"})
        script = Page(page.text).all("script")[0].attrs["src"]
        return [await client.get("/"), page, await client.get(script)]


# ---- static files ----


def test_static_files_come_from_the_packages(tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        async with served(tmp_path) as client:
            page = Page((await client.get("/")).text)
            sources = [s.attrs["src"] for s in page.all("script") if "src" in s.attrs]
            styles = [link.attrs["href"] for link in page.all("link", rel="stylesheet")]
            got = {url: await client.get(url) for url in [*sources, *styles]}
            plotly = next(url for url in sources if "plotly" in url)
            etag = got[plotly].headers["etag"]
            return {
                "got": got,
                "plotly": plotly,
                "not_modified": await client.get(plotly, headers={"If-None-Match": etag}),
                "unversioned": await client.get("/static/flowc.js"),
                "plain": await client.get(plotly, headers={"Accept-Encoding": "identity"}),
                "missing": await client.get("/static/nope.js"),
                "head": await client.head(plotly),
            }

    answers = run(scenario())
    got: dict[str, httpx.Response] = answers["got"]
    assert sorted(url.split("?")[0] for url in got) == [
        "/static/flowc.css",
        "/static/flowc.js",
        "/static/plotly.min.js",
    ]
    shipped = (_package_dir("plotly") / "package_data" / "plotly.min.js").read_bytes()
    plotly: httpx.Response = got[answers["plotly"]]
    assert plotly.status_code == 200
    assert plotly.content == shipped  # httpx undoes the gzip
    assert plotly.headers["content-encoding"] == "gzip"
    assert int(plotly.headers["content-length"]) < len(shipped) / 2
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert plotly.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answers["plain"].content == shipped
    assert "content-encoding" not in answers["plain"].headers
    assert answers["not_modified"].status_code == 304
    assert answers["unversioned"].headers["cache-control"] == "no-cache"
    assert b"EventSource" in answers["unversioned"].content
    assert answers["missing"].status_code == 404
    assert answers["head"].status_code == 200
    assert answers["head"].content == b""
    for url, response in got.items():
        assert response.status_code == 200, url
    ours = Path(__file__).parent.parent / "runtime" / "web" / "static" / "flowc.css"
    css = next(r for u, r in got.items() if u.startswith("/static/flowc.css"))
    assert css.content == ours.read_bytes()
    assert gzip.decompress(gzip.compress(css.content)) == css.content


def test_pages_name_nothing_outside_the_server(tmp_path: Path) -> None:
    """No CDN, no external font: every URL a page loads is on the server itself."""
    responses = pages(tmp_path, "/", "/pipelines/readings", "/dashboards/quickstart")
    for response in responses:
        page = ok_page(response)
        loaded = [e.attrs["src"] for e in page.all("script") if "src" in e.attrs]
        loaded += [e.attrs["href"] for e in page.all("link")]
        assert loaded
        for url in loaded:
            assert url.startswith(("/", "data:")), url
    css = Path(__file__).parent.parent / "runtime" / "web" / "static" / "flowc.css"
    assert "url(" not in css.read_text()
    assert "@import" not in css.read_text()
