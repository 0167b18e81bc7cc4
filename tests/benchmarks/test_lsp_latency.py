"""Benchmark: from a `didChange` to the diagnostics it causes, on a 2,000-line program.

The real server over stdio, as an editor drives it. Three kinds of edit, ten of each: a
value changed in place, a line inserted (every declaration below moves), and a syntax
error typed. Measured twice: with the default debounce (what a user waits after a pause)
and with none (the server's own work). Prints p50 and p95; asserts nothing about time.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from tests.benchmarks.programs import generated_program
from tests.test_lsp_client import lsp_session

EDITS = 30


def _edits(text: str) -> list[tuple[str, bool]]:
    """(text after the edit, whether it has errors), cycling through the three kinds."""
    blocks = text.count("pipeline readings_")
    out: list[tuple[str, bool]] = []
    for n in range(EDITS):
        i = (n * 7) % blocks
        if n % 3 == 0:
            out.append(
                (text.replace(f"OFFSET_{i} = {i}.5", f"OFFSET_{i} = {i}.{n % 9 + 1}"), False)
            )
        elif n % 3 == 1:
            marker = f"pipeline readings_{i} from src_{i} {{\n  map {{\n"
            out.append((text.replace(marker, marker + f"    extra_{n} = {n}\n"), False))
        else:
            broken = f"    scaled = round(value * SCALE + OFFSET_{i}, 2)\n"
            out.append((text.replace(broken, broken.replace(", 2)", ", 2")), True))
    return out


def _latencies(folder: Path, text: str, options: dict[str, float]) -> list[float]:
    samples: list[float] = []
    with lsp_session(folder, options) as client:
        uri = client.open("bench.flow", text)
        assert client.diagnostics(uri) == []
        for edited, has_errors in _edits(text):
            sent = client.change(uri, edited)
            at, params = client.wait_for(
                "textDocument/publishDiagnostics",
                lambda p, v=client.versions[uri]: p["uri"] == uri and p["version"] == v,
                after=sent,
            )
            assert bool(params["diagnostics"]) is has_errors
            samples.append(at - sent)
    return samples


def _report(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000
    return f"{label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {len(samples)} edits"


def test_change_to_diagnostics_latency(tmp_path: Path) -> None:
    text = generated_program(2000)
    (tmp_path / "bench.flow").write_text(text)
    lines = text.count("\n")
    debounced = _latencies(tmp_path, text, {})
    immediate = _latencies(tmp_path, text, {"debounce_ms": 0})
    print(
        f"\nlanguage server, didChange -> publishDiagnostics on a {lines}-line program\n"
        f"  {_report('default debounce (30 ms)', debounced)}\n"
        f"  {_report('no debounce (the check itself)', immediate)}  (aim: p95 < 100 ms)"
    )
