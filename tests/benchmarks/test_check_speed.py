"""Benchmark: `flowc check` on a 5,000-line program against Lark's bare parse of it.

The language server runs the same checker on every keystroke, so the whole check
should stay within about 3x the parse alone. Prints the ratio; asserts nothing about time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from flowc.compiler.checker import check_text
from flowc.dsl.parser import parse_tree_for_benchmark
from tests.benchmarks.programs import generated_program


def _median_seconds(run: Callable[[], object], repeat: int = 5) -> float:
    run()  # warm caches (the parser tables are built once per process)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def test_check_against_bare_parse() -> None:
    text = generated_program(5000)
    lines = text.count("\n")
    result = check_text(text, "bench.flow")
    assert result.ok, [d.message for d in result.diagnostics[:5]]
    parse_s = _median_seconds(lambda: parse_tree_for_benchmark(text))
    check_s = _median_seconds(lambda: check_text(text, "bench.flow"))
    print(
        f"\ncheck of a {lines}-line program: parse {parse_s * 1000:.1f} ms, "
        f"full check {check_s * 1000:.1f} ms, ratio {check_s / parse_s:.2f}x (aim: <= 3x)"
    )
