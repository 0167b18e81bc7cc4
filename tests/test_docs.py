"""The reference pages follow the code: a generated page that is stale fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from flowc.runtime.cli import build_parser
from flowc.runtime.docgen import render_cli_markdown

DOCS = Path(__file__).parent.parent / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render_cli_markdown(), (
        "docs/cli.md is stale: run `make docs`"
    )


def test_every_cli_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        assert f"## flowc {name}" in text
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert re.search(rf"`[^`]*{re.escape(option)}\b", text), option


def test_language_reference_covers_every_keyword() -> None:
    text = (DOCS / "language.md").read_text(encoding="utf-8")
    grammar = (Path(__file__).parent.parent / "grammar" / "flow.lark").read_text()
    keywords = set(re.findall(r'"([a-z_]+)"', grammar))
    missing = sorted(k for k in keywords if f"`{k}" not in text and f"{k} " not in text)
    assert missing == []
