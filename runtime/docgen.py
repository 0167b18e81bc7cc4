"""Generates the reference pages that must follow the code: docs/cli.md and docs/stdlib.md.

`make docs` runs this module from the repository root; tests fail when a generated page
is out of date.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from flowc.runtime.cli import build_parser
from flowc.stdlib.connectors.docgen import render_connectors_markdown
from flowc.stdlib.docgen import render_stdlib_markdown

_CLI_INTRO = """\
# The `flowc` command line

Generated from the code by `make docs`; do not edit by hand.

Exit status, for every command: 0 success, 1 the command found problems (errors in the
files, a file that would be reformatted), 2 the command line itself is wrong.
Diagnostics go to standard error; `--format json` output goes to standard output.
"""

_JSON_SHAPE = """\
### JSON diagnostics

`flowc check --format json` prints one JSON array; each element is:

```json
{
  "code": "E104",
  "severity": "error",
  "message": "unknown field `temprature`",
  "primary": {"file": "weather.flow", "line": 12, "column": 14,
              "end_line": 12, "end_column": 24, "message": "not a field of ..."},
  "secondary": [],
  "help": "did you mean `temperature`?",
  "notes": []
}
```

Lines and columns are 1-based; `end_column` is exclusive. Codes are listed in
[errors.md](errors.md).
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning |", "| --- | --- |"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        metavar = action.metavar if isinstance(action.metavar, str) else None
        name = ", ".join(action.option_strings) or (metavar or action.dest)
        if action.option_strings and action.nargs != 0:
            name += f" {metavar or action.dest.upper()}"
        meaning = (action.help or "").replace("|", "\\|")
        if action.choices and not isinstance(action.choices, dict):
            meaning += " (one of: " + ", ".join(f"`{c}`" for c in action.choices) + ")"
        rows.append(f"| `{name}` | {meaning} |")
    return rows


def render_cli_markdown() -> str:
    parser = build_parser()
    parser.prog = "flowc"
    out = [_CLI_INTRO, "## flowc", "", "```text", parser.format_usage().strip(), "```", ""]
    out += [*_options_table(parser), ""]
    for name, sub in _subcommands(parser).items():
        out += [f"## flowc {name}", "", sub.description or "", "", "```text"]
        out += [sub.format_usage().strip(), "```", ""]
        out += [*_options_table(sub), ""]
        if name == "check":
            out += [_JSON_SHAPE]
    return "\n".join(out).rstrip() + "\n"


GENERATED: dict[str, Callable[[], str]] = {
    "cli.md": render_cli_markdown,
    "stdlib.md": render_stdlib_markdown,
    "connectors.md": render_connectors_markdown,
}


def main() -> None:
    docs = Path("docs")
    for name, render in GENERATED.items():
        (docs / name).write_text(render(), encoding="utf-8")
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
