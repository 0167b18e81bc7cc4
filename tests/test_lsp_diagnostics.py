"""The language server's diagnostics: those of `flowc check`, as the user types."""

from __future__ import annotations

import time
from pathlib import Path

from flowc.compiler.checker import check_path
from tests.test_lsp_client import MAIN, LspClient, lsp_session, position_of, write_project


def _codes(diagnostics: list[dict[str, object]]) -> list[object]:
    return [d["code"] for d in diagnostics]


def test_a_clean_file_gets_an_empty_list_on_open(tmp_path: Path) -> None:
    write_project(tmp_path)
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", MAIN)
        assert client.diagnostics(uri) == []


def test_diagnostics_are_those_of_flowc_check(tmp_path: Path) -> None:
    write_project(tmp_path)
    broken = MAIN.replace("where temp_c > HOT", "where temp_k > HOT").replace(
        "format: jsonl", "format: json"
    )
    (tmp_path / "broken.flow").write_text(broken)
    expected = check_path(tmp_path / "broken.flow").diagnostics
    with lsp_session(tmp_path) as client:
        uri = client.open("broken.flow", broken)
        published = client.diagnostics(uri)
    assert _codes(published) == [d.code for d in expected] == ["E303", "E104"]
    for got, want in zip(published, expected, strict=True):
        assert got["message"].startswith(want.message)
        assert got["source"] == "flowc"
        start = got["range"]["start"]
        assert (start["line"] + 1, start["character"] + 1) == (want.span.line, want.span.column)
    unknown = published[1]
    assert "help: did you mean `temp_c`?" in unknown["message"]
    assert unknown["severity"] == 1  # error


def test_secondary_labels_become_related_information(tmp_path: Path) -> None:
    text = MAIN.replace("const HOT = 30.0", "const HOT = 30.0\nconst HOT = 31.0")
    (tmp_path / "common.flow").write_text("")
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        duplicate = next(d for d in client.diagnostics(uri) if d["code"] == "E102")
    related = duplicate["relatedInformation"]
    assert related[0]["message"] == "first declared here"
    assert related[0]["location"]["uri"] == uri
    assert related[0]["location"]["range"]["start"]["line"] == position_of(text, "HOT")[0]
    assert "help: sources, sinks, pipelines" in duplicate["message"]


def test_warnings_have_warning_severity(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = MAIN + '\nsource unused: webhook {\n  path: "/hook"\n}\n'
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        warnings = [d for d in client.diagnostics(uri) if d["code"] in ("W501", "W503")]
    assert {d["code"] for d in warnings} == {"W501", "W503"}
    assert all(d["severity"] == 2 for d in warnings)


def test_diagnostics_update_on_change_and_clear_when_fixed(tmp_path: Path) -> None:
    write_project(tmp_path)
    with lsp_session(tmp_path, {"debounce_ms": 20}) as client:
        uri = client.open("main.flow", MAIN)
        assert client.diagnostics(uri) == []
        client.change(uri, MAIN.replace("mean(temp_c)", "mean(temp_x)"))
        assert _codes(client.diagnostics(uri)) == ["E104"]
        client.change(uri, MAIN)
        assert client.diagnostics(uri) == []


def test_a_burst_of_changes_is_checked_once(tmp_path: Path) -> None:
    write_project(tmp_path)
    with lsp_session(tmp_path, {"debounce_ms": 300}) as client:
        uri = client.open("main.flow", MAIN)
        client.diagnostics(uri)
        start = time.perf_counter()
        for typed in ("m", "me", "mea", "mean", "mean_"):
            client.change(uri, MAIN.replace("mean_c = mean(temp_c)", f"{typed} = mean(temp_c)"))
        client.diagnostics(uri)  # the last version's
        time.sleep(0.6)  # any check of an earlier version would have been published by now
        published = [
            p
            for at, method, p in client.notifications
            if at >= start and method == "textDocument/publishDiagnostics" and p["uri"] == uri
        ]
    assert [p["version"] for p in published] == [6]


def test_a_file_with_a_syntax_error_still_gets_the_other_errors(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = MAIN.replace("where temp_c > HOT", "where temp_c > ").replace(
        "mean(temp_c)", "mean(temp_x)"
    )
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", text)
        published = client.diagnostics(uri)
    assert "E001" in _codes(published) or "E003" in _codes(published)
    assert "E104" in _codes(published)  # in `hourly`, which parses


def test_an_open_imported_file_counts_with_its_unsaved_text(tmp_path: Path) -> None:
    write_project(tmp_path)
    with lsp_session(tmp_path, {"debounce_ms": 20}) as client:
        main = client.open("main.flow", MAIN)
        assert client.diagnostics(main) == []
        common = client.open("common.flow", (tmp_path / "common.flow").read_text())
        client.diagnostics(common)
        sent = client.change(
            common, (tmp_path / "common.flow").read_text().replace("c_to_f", "c2f")
        )
        # main.flow is checked again, with the buffer of common.flow, not the file on disk.
        _, params = client.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == main and "E103" in _codes(p["diagnostics"]),
            after=sent,
        )
        assert "unknown function `c_to_f`" in params["diagnostics"][0]["message"]


def test_errors_in_an_imported_file_show_on_its_import(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "common.flow").write_text("const VAT = \n")
    with lsp_session(tmp_path) as client:
        uri = client.open("main.flow", MAIN)
        published = client.diagnostics(uri)
    on_import = [d for d in published if d["range"]["start"]["line"] == 0]
    assert on_import, published
    assert "common.flow has 1 error" in on_import[0]["message"]
    assert on_import[0]["relatedInformation"][0]["location"]["uri"].endswith("common.flow")


def test_closing_a_document_clears_its_diagnostics(tmp_path: Path) -> None:
    with lsp_session(tmp_path) as client:
        uri = client.open("bad.flow", "const X = nope\n")
        assert client.diagnostics(uri)
        start = time.perf_counter()
        client.close_document(uri)
        _, params = client.wait_for(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri, after=start
        )
        assert params["diagnostics"] == []


def test_unsaved_buffers_never_crash_the_server_while_typing(tmp_path: Path) -> None:
    write_project(tmp_path)
    client = LspClient(tmp_path, {"debounce_ms": 0})
    try:
        uri = client.open("main.flow", "")
        for end in range(0, len(MAIN), 37):
            client.change(uri, MAIN[:end])
            client.request("textDocument/completion", client.at(uri, MAIN[:end].count("\n"), 0))
        client.change(uri, MAIN)
        assert client.diagnostics(uri) == []
        assert client.process.poll() is None
    finally:
        client.shutdown()
