"""`flowc compile` and the commands built on it: files, determinism, secrets, goldens."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from flowc.compiler.artifacts import compile_unit
from flowc.compiler.checker import check_path
from flowc.compiler.polars_plan import PlanModule
from flowc.runtime.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.flow"))
GOLDEN = Path(__file__).parent / "golden" / "compile"


def test_golden_files(update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    result = check_path(Path("sensors.flow"))
    assert result.ok, [d.message for d in result.diagnostics]
    files = compile_unit(result, pretty=True).files
    expected_dir = GOLDEN / "sensors"
    if update_golden:
        expected_dir.mkdir(exist_ok=True)
        for old in expected_dir.iterdir():
            old.unlink()
        for name, text in files.items():
            (expected_dir / name).write_text(text, encoding="utf-8")
    assert sorted(files) == sorted(p.name for p in expected_dir.iterdir())
    for name, text in files.items():
        assert text == (expected_dir / name).read_text(encoding="utf-8"), name


def test_compile_writes_every_file_and_twice_is_identical(tmp_path: Path) -> None:
    example = str(ROOT / "examples" / "weather.flow")
    assert main(["compile", example, "-o", str(tmp_path / "a")]) == 0
    assert main(["compile", example, "-o", str(tmp_path / "b")]) == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert first == second
    assert {"manifest.json", "weather.py", "weather.timescale.sql", "weather.postgres.sql",
            "weather.duckdb.sql", "heat_alerts.py"} <= set(first)  # fmt: skip


def test_compiled_output_holds_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENSOR_TOKEN", "tok-9f8e7d6c5b4a")
    monkeypatch.setenv("ALERT_URL", "https://hooks.example.com/secret-path-123")
    assert main(["compile", str(GOLDEN / "sensors.flow"), "-o", str(tmp_path)]) == 0
    everything = "".join(p.read_text() for p in tmp_path.iterdir())
    assert "tok-9f8e7d6c5b4a" not in everything
    assert "secret-path-123" not in everything
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    [source] = manifest["sources"]
    assert source["config"]["token"] == {"name": "SENSOR_TOKEN"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles_to_plans_that_run(example: Path) -> None:
    result = check_path(example)
    assert result.ok
    compiled = compile_unit(result)
    for name in compiled.pipelines:
        plan = PlanModule(compiled.files[f"{name}.py"], f"{name}.py")
        outputs = plan.plan(pl.LazyFrame(schema=plan.input_schema), dt.datetime.now(dt.UTC))
        frames = pl.collect_all(list(outputs.values()))
        output = dict(zip(outputs, frames, strict=True))["output"]
        assert dict(output.schema) == plan.output_schema, name


def test_explain_shows_plan_sql_and_ddl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(GOLDEN / "sensors.flow"), "readings"]) == 0
    out = capsys.readouterr().out
    assert "## Optimized Polars plan" in out
    assert 'WITH "step_0" AS' in out
    assert "create_hypertable" in out


def test_explain_unknown_pipeline_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(GOLDEN / "sensors.flow"), "nope"]) == 2
    assert "no pipeline `nope`" in capsys.readouterr().err


def test_lineage_from_source_to_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage", str(GOLDEN / "sensors.flow"), "hourly.mean_temp"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "hourly.mean_temp: float"
    assert "mean_temp = mean(temp_c)" in out
    assert "<- source field sensors.temperature" in out
    assert "-> table readings_hourly.mean_temp" in out
    assert (
        main(["lineage", str(GOLDEN / "sensors.flow"), "readings.temp_c", "--format", "json"]) == 0
    )
    traced = json.loads(capsys.readouterr().out)
    kinds = [d["kind"] for d in traced["destinations"]]
    assert "table" in kinds
    assert "pipeline" in kinds


def test_graph_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(GOLDEN / "sensors.flow")]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR\n")
    assert "source_sensors --> pipeline_readings" in mermaid
    assert "pipeline_hot --> sink_alerts" in mermaid
    assert main(["graph", str(GOLDEN / "sensors.flow"), "--format", "dot"]) == 0
    assert "pipeline_readings -> table_readings;" in capsys.readouterr().out


def test_flow_tests_of_every_example_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["test", str(ROOT / "examples")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert " 0 failed" in out


FAILING_TEST = """\
source s: file {
  path: "in.jsonl"
  schema { name: str, n: int }
}

pipeline p from s {
  map {
    name = lower(name)
    twice = n * 2
  }
  where twice > 0
}

test "a wrong expectation" {
  given s [{ name: "A", n: 1 }, { name: "B", n: -1 }]
  expect p [{ name: "a", twice: 3 }, { name: "b", twice: -2 }]
}
"""


def test_failing_flow_test_shows_a_readable_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.flow").write_text(FAILING_TEST)
    assert main(["test", str(tmp_path / "t.flow")]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "expected 2 records, got 1" in out
    assert "twice: expected 3, got 2" in out
    assert 'missing record 2: { name: "b", twice: -2 }' in out
    assert out.rstrip().endswith("0 passed, 1 failed")
