"""'Did you mean': close typos are suggested, unrelated names are not."""

from __future__ import annotations

import pytest

from flowc.dsl.suggest import did_you_mean, edit_distance


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "abc", 3), ("abc", "abc", 0), ("abc", "acb", 1), ("kitten", "sitting", 3)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


@pytest.mark.parametrize(
    ("name", "candidates", "suggestion"),
    [
        ("temprature", ["temperature", "time"], "temperature"),
        ("m", ["n"], "n"),
        ("CIT", ["CITY", "city"], "CITY"),
        ("Every", ["every", "cron"], "every"),
        ("retension", ["retention", "chunk"], "retention"),
        ("zzz", ["temperature", "time"], None),
        ("x", [], None),
    ],
)
def test_suggestions(name: str, candidates: list[str], suggestion: str | None) -> None:
    expected = f"did you mean `{suggestion}`?" if suggestion else None
    assert did_you_mean(name, candidates) == expected
