"""The `flowc` command: exit codes, output formats, and `fmt`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.runtime.cli import main

GOOD = """\
source g: generate {
  rate: 1
  fields { n: { sequence: 1 } }
}

pipeline p from g {
  where n > 0
}
"""
BAD = """\
source g: generate {
  rate: 1
  fields { n: { sequence: 1 } }
}

pipeline p from g {
  where m > 0
}
"""


def run(*args: str) -> int:
    return main(list(args))


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--version") == 0
    assert capsys.readouterr().out.startswith("flowc ")
    assert run("--help") == 0
    assert "check" in capsys.readouterr().out


def test_console_script_is_installed() -> None:
    flowc = Path(sys.executable).parent / "flowc"
    done = subprocess.run([str(flowc), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("flowc 0.")


def test_check_clean_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.flow").write_text(GOOD)
    assert run("check", str(tmp_path / "a.flow")) == 0
    assert capsys.readouterr().err == ""


def test_check_reports_errors_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.flow").write_text(BAD)
    assert run("check", "a.flow") == 1
    err = capsys.readouterr().err
    assert "error[E104]: unknown field `m`" in err
    assert "--> a.flow:7:9" in err
    assert "7 |   where m > 0" in err
    assert "did you mean `n`?" in err
    assert err.rstrip().endswith("1 error")


def test_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.flow").write_text(BAD)
    assert run("check", "--format", "json", str(tmp_path / "a.flow")) == 1
    [item] = json.loads(capsys.readouterr().out)
    assert item["code"] == "E104"
    assert (item["primary"]["line"], item["primary"]["column"]) == (7, 9)
    assert item["help"] == "did you mean `n`?"


def test_check_directory_checks_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.flow").write_text(GOOD)
    (tmp_path / "sub" / "b.flow").write_text(BAD)
    assert run("check", str(tmp_path)) == 1
    assert "b.flow:7:9" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("check", str(tmp_path / "missing.flow")) == 2
    assert "no such file" in capsys.readouterr().err
    assert run("check", str(tmp_path)) == 2  # a directory without .flow files
    assert run("check") == 2
    assert run("frobnicate") == 2
    assert run() == 2


def test_garbage_input_never_crashes(tmp_path: Path) -> None:
    (tmp_path / "a.flow").write_bytes(b'\xff\xfe pipeline {{{ \x00 ]]] "unterminated\n')
    assert run("check", str(tmp_path / "a.flow")) == 1


def test_fmt_rewrites_and_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.flow"
    path.write_text("pipeline p from g {\n      where n>0\n}\n")
    assert run("fmt", "--check", str(path)) == 1
    assert "would be reformatted" in capsys.readouterr().err
    assert run("fmt", str(path)) == 0
    formatted = path.read_text()
    assert formatted == "pipeline p from g {\n  where n > 0\n}\n"
    assert run("fmt", "--check", str(path)) == 0


def test_fmt_leaves_broken_files_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.flow"
    path.write_text("pipeline p from g {\n where\n")
    assert run("fmt", str(path)) == 1
    assert path.read_text() == "pipeline p from g {\n where\n"
    assert "syntax errors" in capsys.readouterr().err


def test_examples_check_clean() -> None:
    examples = Path(__file__).parent.parent / "examples"
    assert run("check", str(examples)) == 0


def test_examples_are_formatted() -> None:
    examples = Path(__file__).parent.parent / "examples"
    assert run("fmt", "--check", str(examples)) == 0
