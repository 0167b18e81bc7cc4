"""A minimal LSP client over stdio for the language server's tests, and tests of the session.

The tests drive the real server (`python -m flowc.compiler.lsp`, what `flowc lsp` runs) as an
editor would: JSON-RPC messages with `Content-Length` headers on its stdin and stdout. A
reader thread collects responses by id and notifications by method, so a test can wait
for "the diagnostics of this document after that change".
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

TIMEOUT = 20.0  # seconds: generous, CI machines are shared


class LspError(Exception):
    """The server answered a request with an error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class LspClient:
    def __init__(self, cwd: Path, options: dict[str, Any] | None = None) -> None:
        self.cwd = cwd
        self.log = (cwd / "lsp-server.log").open("w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowc.compiler.lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.ids = itertools.count(1)
        self.lock = threading.Condition()
        self.responses: dict[int, dict[str, Any]] = {}
        self.notifications: list[tuple[float, str, Any]] = []
        self.versions: dict[str, int] = {}
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        capabilities = {
            "textDocument": {
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "completion": {"completionItem": {"snippetSupport": True}},
                "semanticTokens": {"requests": {"full": True}, "tokenTypes": [],
                                   "tokenModifiers": [], "formats": ["relative"]},
                "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                "rename": {"prepareSupport": True},
                "publishDiagnostics": {"relatedInformation": True},
            }
        }  # fmt: skip
        params = {
            "processId": None,
            "rootUri": cwd.as_uri(),
            "capabilities": capabilities,
            "initializationOptions": options or {},
        }
        try:
            self.initialize_result = self.request("initialize", params)
        except Exception:
            self.shutdown()
            raise
        self.notify("initialized", {})

    # ---- transport ----

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            message = _read_message(stdout)
            if message is None:
                with self.lock:
                    self.lock.notify_all()
                return
            with self.lock:
                if "id" in message and "method" in message:  # a request from the server
                    self._send({"id": message["id"], "result": None})
                elif "id" in message:
                    self.responses[message["id"]] = message
                else:
                    self.notifications.append(
                        (time.perf_counter(), message["method"], message.get("params"))
                    )
                self.lock.notify_all()

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        request_id = next(self.ids)
        with self.lock:
            self._send({"id": request_id, "method": method, "params": params})
            ok = self.lock.wait_for(
                lambda: request_id in self.responses or self.process.poll() is not None,
                timeout,
            )
            if not ok or request_id not in self.responses:
                raise TimeoutError(f"no answer to {method}: {self.server_log()}")
            response = self.responses.pop(request_id)
        if "error" in response:
            raise LspError(response["error"])
        return response.get("result")

    def notify(self, method: str, params: Any) -> None:
        with self.lock:
            self._send({"method": method, "params": params})

    def wait_for(
        self,
        method: str,
        accept: Callable[[Any], bool] = lambda _: True,
        after: float = 0.0,
        timeout: float = TIMEOUT,
    ) -> tuple[float, Any]:
        """The first notification `method` received after time `after` that `accept`s."""

        def find() -> tuple[float, Any] | None:
            for at, name, params in self.notifications:
                if at >= after and name == method and accept(params):
                    return at, params
            return None

        with self.lock:
            ok = self.lock.wait_for(lambda: find() is not None, timeout)
            found = find()
        if not ok or found is None:
            raise TimeoutError(f"no {method}: {self.server_log()}")
        return found

    def server_log(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    # ---- documents ----

    def uri(self, name: str) -> str:
        return (self.cwd / name).as_uri()

    def open(self, name: str, text: str) -> str:
        uri = self.uri(name)
        self.versions[uri] = 1
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "flow", "version": 1, "text": text}},
        )
        return uri

    def change(self, uri: str, text: str) -> float:
        """Replace the document's text; returns when the change was sent."""
        self.versions[uri] += 1
        sent = time.perf_counter()
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": self.versions[uri]},
                "contentChanges": [{"text": text}],
            },
        )
        return sent

    def close_document(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def diagnostics(self, uri: str, after: float = 0.0, version: int | None = None) -> list[Any]:
        """The diagnostics published for `uri` (for `version`, by default the latest sent)."""
        want = self.versions.get(uri) if version is None else version

        def accept(params: Any) -> bool:
            return bool(params["uri"] == uri and params.get("version") == want)

        return list(
            self.wait_for("textDocument/publishDiagnostics", accept, after)[1]["diagnostics"]
        )

    def at(self, uri: str, line: int, character: int) -> dict[str, Any]:
        return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}

    def shutdown(self) -> int:
        """`shutdown` then `exit`, as an editor closes the server; its exit status."""
        try:
            if self.process.poll() is None:
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
            return self.process.wait(timeout=5)
        except (TimeoutError, LspError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            return self.process.wait()
        finally:
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()
            self.reader.join(timeout=5)
            self.log.close()


def _read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = stream.read(length)
    return json.loads(body) if body else None


@contextmanager
def lsp_session(cwd: Path, options: dict[str, Any] | None = None) -> Iterator[LspClient]:
    client = LspClient(cwd, options)
    try:
        yield client
    finally:
        client.shutdown()


def position_of(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """The 0-based (line, character) of `needle` in `text`, plus `offset` characters."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


# ---- a small project: a library file and a program importing it ---------------------------

COMMON = """\
// Shared helpers.
const VAT = 0.19

// Celsius to Fahrenheit, rounded to one digit.
fn c_to_f(c: float) -> float = round(c * 9.0 / 5.0 + 32.0, 1)

type Reading {
  device: str
  temp_c: float
}
"""

MAIN = """\
import "common.flow"

const HOT = 30.0

source sensors: http {
  url: "https://example.com/readings"
  every: 5m
  records: "$.items"
  schema {
    sensor: str
    temperature: float?
    ts: timestamp
  }
}

sink alerts: stdout {
  format: jsonl
}

pipeline readings from sensors {
  map {
    sensor = lower(sensor)
    temp_c = temperature
    temp_f = c_to_f(temperature ?? 0.0)
    ts     = ts
  }
  rename { sensor -> device }
  validate {
    required temp_c else drop
  }
  persist timescale readings { time: ts, key: (device, ts) }
}

pipeline hot from readings {
  where temp_c > HOT
  select device, temp_c
  sink alerts
}

pipeline hourly from readings {
  aggregate every 1h by device {
    mean_c = mean(temp_c)
  }
}
"""


def write_project(folder: Path) -> Path:
    """common.flow and main.flow in `folder` (main.flow checks without diagnostics)."""
    (folder / "common.flow").write_text(COMMON)
    (folder / "main.flow").write_text(MAIN)
    return folder


# ---- tests of the session itself ----------------------------------------------------------


def test_initialize_announces_every_feature(tmp_path: Path) -> None:
    with lsp_session(tmp_path) as client:
        capabilities = client.initialize_result["capabilities"]
        for feature in (
            "hoverProvider", "completionProvider", "definitionProvider", "referencesProvider",
            "renameProvider", "documentSymbolProvider", "signatureHelpProvider",
            "documentFormattingProvider", "semanticTokensProvider",
        ):  # fmt: skip
            assert capabilities.get(feature), feature
        legend = capabilities["semanticTokensProvider"]["legend"]
        assert {"keyword", "type", "function", "variable", "string", "number", "comment",
                "operator", "property"} <= set(legend["tokenTypes"])  # fmt: skip
        assert client.initialize_result["serverInfo"]["name"] == "flowc"


def test_shutdown_and_exit_end_the_process(tmp_path: Path) -> None:
    client = LspClient(tmp_path)
    assert client.shutdown() == 0


@pytest.mark.parametrize("garbage", ["\x00\x01", "pipeline {{{{ ((((", '"""', "}" * 50])
def test_garbage_documents_never_crash_the_server(tmp_path: Path, garbage: str) -> None:
    with lsp_session(tmp_path) as client:
        uri = client.open("junk.flow", garbage)
        client.diagnostics(uri)
        client.request("textDocument/hover", client.at(uri, 0, 1))
        client.request("textDocument/completion", client.at(uri, 0, len(garbage)))
        client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}})
        client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert client.process.poll() is None
