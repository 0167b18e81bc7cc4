"""Golden tests: one faulty program per diagnostic code, with its exact rendered output.

tests/golden/diagnostics/<CODE>_<what>.flow is the program; the .expected file beside it
is what `flowc check` prints for it. Run `pytest --update-golden` to rewrite them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.compiler.checker import check_path
from flowc.dsl.codes import CODES
from flowc.dsl.render import render_all

GOLDEN = Path(__file__).parent / "golden" / "diagnostics"
PROGRAMS = sorted(GOLDEN.glob("*.flow"))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_rendered_diagnostics(
    program: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)  # file names in the output are relative to the cwd
    result = check_path(Path(program.name))
    rendered = render_all(result.diagnostics, result.unit.texts.get) + "\n"
    code = program.stem.split("_")[0]
    assert code in {d.code for d in result.diagnostics}, f"{program.name} does not raise {code}"
    expected_file = program.with_suffix(".expected")
    if update_golden:
        expected_file.write_text(rendered, encoding="utf-8")
    assert rendered == expected_file.read_text(encoding="utf-8")


def test_every_code_has_a_golden_program() -> None:
    covered = {p.stem.split("_")[0] for p in PROGRAMS}
    assert sorted(set(CODES) - covered) == []
