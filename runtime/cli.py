"""The `flowc` command line. docs/cli.md is generated from this parser (`make docs`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from flowc.compiler.checker import check_path
from flowc.dsl.diagnostics import Diagnostic, sort_key
from flowc.dsl.fmt import format_source
from flowc.dsl.render import render_all

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line itself (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowc",
        description="Declarative data pipelines: check, format, compile and run .flow files.",
    )
    parser.add_argument("--version", action="version", version=f"flowc {version('flowc')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="type-check .flow files and report every error",
        description="Parse and type-check .flow files. Exit status: 0 no errors, "
        "1 errors found, 2 usage error.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default) or json for tools",
    )
    check.set_defaults(handler=_check)

    fmt = commands.add_parser(
        "fmt",
        help="rewrite .flow files in the canonical layout",
        description="Format .flow files in place. Files with syntax errors are left alone. "
        "Exit status: 0 done (or, with --check, nothing to change), 1 a file would change "
        "or has syntax errors, 2 usage error.",
    )
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    fmt.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if any file is not formatted",
    )
    fmt.set_defaults(handler=_fmt)
    return parser


def flow_files(paths: Sequence[str]) -> list[Path]:
    """The .flow files named by `paths`: files as given, directories searched recursively."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.rglob("*.flow")))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {raw}")
    if not files:
        raise UsageError("no .flow files found in " + ", ".join(paths))
    return files


def _check(args: argparse.Namespace) -> int:
    diagnostics: dict[tuple[str, str, int, int, str], Diagnostic] = {}
    texts: dict[str, str] = {}
    for file in flow_files(args.paths):
        result = check_path(file)
        texts.update(result.unit.texts)
        for d in result.diagnostics:
            diagnostics[(d.code, d.span.file, d.span.line, d.span.column, d.message)] = d
    ordered = sorted(diagnostics.values(), key=sort_key)
    if args.format == "json":
        print(json.dumps([d.to_json() for d in ordered], indent=2))
    elif ordered:
        print(render_all(ordered, texts.get), file=sys.stderr)
    has_errors = any(d.severity.value == "error" for d in ordered)
    return EXIT_ERRORS if has_errors else EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for file in flow_files(args.paths):
        text = file.read_text(encoding="utf-8")
        formatted = format_source(text, str(file))
        if formatted is None:
            print(
                f"{file}: not formatted: it has syntax errors (see `flowc check`)", file=sys.stderr
            )
            status = EXIT_ERRORS
        elif formatted != text:
            if args.check:
                print(f"{file}: would be reformatted", file=sys.stderr)
                status = EXIT_ERRORS
            else:
                file.write_text(formatted, encoding="utf-8")
                print(f"{file}: formatted", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"flowc {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
