"""The dashboards in a real browser, on a real `flowc run examples/quickstart.flow`.

Headless chromium (Debian's, see tests/browser.py) opens each page and watches it grow
without a reload: new rows in the tables, new points in the charts, as the quickstart's
generator sends a batch every second. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import QUICKSTART, artifact, browser, flowc_run, points, watch_errors

LIVE_TIMEOUT_MS = 20_000  # the quickstart sends a batch a second: this is generous


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`flowc run` on a copy of the quickstart (its spool beside it) and a fresh store."""
    tmp = tmp_path_factory.mktemp("quickstart")
    program = tmp / "quickstart.flow"
    shutil.copy(QUICKSTART, program)
    with flowc_run(program, tmp / "store.duckdb") as url:
        yield url


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    with browser() as launched:
        yield launched


@pytest.fixture
def page(chrome: Browser) -> Iterator[Page]:
    opened = chrome.new_page(viewport={"width": 1280, "height": 900})
    yield opened
    opened.close()


def _mark(page: Page) -> None:
    """A value that a reload would lose."""
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.__notReloaded === true"))


def _rows(page: Page, selector: str) -> int:
    return int(page.locator(f"{selector} tbody tr").count())


def test_dashboard_grows_live_without_a_reload(server: str, page: Page) -> None:
    errors = watch_errors(page)
    page.goto(f"{server}/dashboards/quickstart")
    assert page.title().startswith("Quickstart: three synthetic sensors")
    assert page.locator("h1").inner_text() == "Quickstart: three synthetic sensors"
    line = "[data-chart='0']"
    table = "table[data-table='2']"
    page.wait_for_function(
        "document.querySelector('#live').dataset.state === 'live'", timeout=LIVE_TIMEOUT_MS
    )
    page.wait_for_function(
        f'document.querySelector("{table}").tBodies[0].rows.length > 0',
        timeout=LIVE_TIMEOUT_MS,
    )
    _mark(page)
    before = points(page, line)
    first_row = page.locator(f"{table} tbody tr").first.inner_text()
    page.wait_for_function(
        f'Number(document.querySelector("{line}").dataset.points) > {before}',
        timeout=LIVE_TIMEOUT_MS,
    )
    page.wait_for_function(
        f'document.querySelector("{table}").tBodies[0].rows[0].innerText !== {first_row!r}',
        timeout=LIVE_TIMEOUT_MS,
    )
    assert _not_reloaded(page)
    assert points(page, line) > before
    assert 0 < _rows(page, table) <= 15
    # the line chart draws one line per sensor; the table shows the declared fields
    names = page.evaluate(f'document.querySelector("{line}").data.map(t => t.name)')
    assert set(names) <= {"kitchen", "garage", "attic"}
    assert names
    headers = page.locator(f"{table} thead th").all_inner_texts()
    assert headers == ["ts", "sensor", "temperature", "temp_f", "status"]
    artifact(page, "dashboard-quickstart")
    assert errors == []


def test_pipeline_page_shows_records_batches_history_and_dead_letters(
    server: str, page: Page
) -> None:
    errors = watch_errors(page)
    page.goto(f"{server}/pipelines/readings")
    assert page.locator("h1").inner_text().startswith("readings")
    page.wait_for_function(
        "document.querySelector('#records').tBodies[0].rows.length > 0", timeout=LIVE_TIMEOUT_MS
    )
    page.wait_for_function(
        "document.querySelector('#live').dataset.state === 'live'", timeout=LIVE_TIMEOUT_MS
    )
    _mark(page)
    rows = _rows(page, "#records")
    batches = points(page, "#live-batches")
    values = points(page, "#live-values")
    page.wait_for_function(
        f"Number(document.querySelector('#live-batches').dataset.points) > {batches}",
        timeout=LIVE_TIMEOUT_MS,
    )
    page.wait_for_function(
        f"Number(document.querySelector('#live-values').dataset.points) > {values}",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert _not_reloaded(page)
    assert _rows(page, "#records") >= rows
    assert _rows(page, "#records") <= 100
    # the metrics are filled in, and the history (from the store) has buckets
    page.wait_for_function(
        "Number(document.querySelector('#metrics [data-field=records_in]')"
        ".textContent.replace(/\\D/g, '')) > 0",
        timeout=LIVE_TIMEOUT_MS,
    )
    page.wait_for_function(
        "Number(document.querySelector('#history').dataset.points) > 0", timeout=LIVE_TIMEOUT_MS
    )
    # the range picker reads another range, without a reload
    page.get_by_text("24h", exact=True).click()
    page.wait_for_function(
        "document.querySelector('#history-caption').textContent.includes('24h')",
        timeout=LIVE_TIMEOUT_MS,
    )
    page.select_option("#history-measure", "temperature")
    page.wait_for_function(
        "document.querySelector('#history-caption').textContent.includes('Average temperature')",
        timeout=LIVE_TIMEOUT_MS,
    )
    assert _not_reloaded(page)
    # the quickstart rejects nothing: its dead letters say so once read
    page.wait_for_function(
        "!document.querySelector('#dead-empty').hidden"
        " || document.querySelector('#dead-letters').tBodies[0].rows.length > 0",
        timeout=LIVE_TIMEOUT_MS,
    )
    artifact(page, "pipeline-readings")
    assert errors == []


def test_overview_updates_every_pipeline(server: str, page: Page) -> None:
    errors = watch_errors(page)
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Pipelines"
    cell = "tr[data-pipeline=readings] [data-field=records_in]"
    read = f"Number(document.querySelector('{cell}').textContent.replace(/\\D/g, '') || 0)"
    page.wait_for_function(f"{read} > 0", timeout=LIVE_TIMEOUT_MS)
    _mark(page)
    seen = int(page.evaluate(read))
    page.wait_for_function(f"{read} > {seen}", timeout=LIVE_TIMEOUT_MS)
    assert _not_reloaded(page)
    statuses = page.locator("[data-field=status]").all_inner_texts()
    assert statuses
    assert all(s in {"ok", "idle", "failing"} for s in statuses)
    page.wait_for_function(
        "Number(document.querySelector('[data-spark=readings]').dataset.points) > 0",
        timeout=LIVE_TIMEOUT_MS,
    )
    page.get_by_role("link", name="readings").first.click()
    page.wait_for_url(f"{server}/pipelines/readings")
    artifact(page, "overview")
    assert errors == []


def test_unknown_dashboard_is_a_page_that_says_so(server: str, page: Page) -> None:
    response = page.goto(f"{server}/dashboards/nope")
    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "No dashboard nope"
    page.get_by_role("link", name="quickstart", exact=True).click()
    page.wait_for_url(f"{server}/dashboards/quickstart")


def test_pages_load_nothing_from_outside(server: str, page: Page) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("/", "/pipelines/readings", "/dashboards/quickstart"):
        page.goto(server + path)
        page.wait_for_load_state("load")
    assert requested
    outside = [url for url in requested if not url.startswith((server, "data:"))]
    assert outside == []


def test_chromium_is_found() -> None:
    """The setup itself: chromium is where the tests look (a missing one fails, loudly)."""
    from tests.browser import chromium

    assert Path(chromium()).exists()
