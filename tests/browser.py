"""Browser tests' helpers: Debian's chromium driven by Playwright, and a real `flowc run`.

Playwright's own browser download cannot work here, so it drives the chromium that
`.ci/install-chromium` installs (`/usr/bin/chromium`, or `$FLOWC_CHROMIUM`). A missing
chromium fails the test with what to run, never skips it.

`python -m tests.browser` takes the screenshots of docs/dashboard.md (docs/images/) with the
same setup, from `flowc run examples/quickstart.flow` on a fresh store (or from the server
at the URL given after it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, FloatRect, Page, sync_playwright

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
QUICKSTART = ROOT / "examples" / "quickstart.flow"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    """The chromium executable; fails the test, saying how to install it, when missing."""
    path = os.environ.get("FLOWC_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"no chromium at {path}: the browser tests drive Debian's chromium; install it "
            "with `.ci/install-chromium` (as root), or set FLOWC_CHROMIUM to a chromium binary",
            pytrace=False,
        )
    return path


@contextmanager
def browser() -> Iterator[Browser]:
    """Headless chromium through Playwright."""
    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def flowc_run(program: Path, store: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """`flowc run PROGRAM --store STORE` on a free port of 127.0.0.1, until the block ends;
    yields its base URL once it answers. Its output goes to files beside the store (the
    quickstart prints hot readings on stdout: a pipe nobody reads would fill and block it).
    """
    port = free_port()
    flowc = Path(sys.executable).parent / "flowc"
    out = store.parent / "flowc-run.out"
    err = store.parent / "flowc-run.err"
    command = [str(flowc), "run", str(program), "--store", str(store), "--port", str(port),
               "--log-format", "json"]  # fmt: skip
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, env={**os.environ, **(env or {})}
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(process, url, err)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, err: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"flowc run exited with {process.returncode}:\n{err.read_text()}")
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code != 200:
            pytest.fail(
                f"flowc run answers {response.status_code} at {url}/, where the overview of "
                "the dashboards should be: does runtime/serve.py mount Dashboards?"
            )
        return
    pytest.fail(f"flowc run did not answer at {url} within 60 s:\n{err.read_text()}")


def watch_errors(page: Page) -> list[str]:
    """The page's uncaught errors and console errors, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    return errors


def artifact(page: Page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/ (kept by CI, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def points(page: Page, selector: str) -> int:
    """The points a chart draws (the glue keeps the count in `data-points`)."""
    value = page.get_attribute(selector, "data-points")
    return int(value or 0)


def take_doc_screenshots(images: Path, url: str | None = None) -> None:
    """The screenshots of docs/dashboard.md: the quickstart after a minute of running
    (or the server at `url`), at most 1400 pixels high each."""
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if url is None:
            program = Path(tmp) / "quickstart.flow"
            shutil.copy(QUICKSTART, program)
            url = stack.enter_context(flowc_run(program, Path(tmp) / "store.duckdb"))
            time.sleep(60)
        chrome = stack.enter_context(browser())
        page = chrome.new_page(viewport={"width": 1280, "height": 800})
        for path, name in (
            ("/", "overview"),
            ("/pipelines/readings", "pipeline"),
            ("/dashboards/quickstart", "dashboard"),
        ):
            page.goto(url + path)
            page.wait_for_function("document.querySelector('#live').dataset.state !== 'idle'")
            time.sleep(5)
            height = min(1400, int(page.evaluate("document.documentElement.scrollHeight")))
            clip: FloatRect = {"x": 0, "y": 0, "width": 1280, "height": height}
            page.screenshot(path=str(images / f"{name}.png"), full_page=True, clip=clip)
            print(images / f"{name}.png")


if __name__ == "__main__":
    # `python -m tests.browser [URL]`: URL, a server already running the quickstart
    take_doc_screenshots(ROOT / "docs" / "images", sys.argv[1] if len(sys.argv) > 1 else None)
