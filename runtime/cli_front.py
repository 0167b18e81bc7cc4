"""`flowc check` and `flowc fmt`: the front end's commands."""

from __future__ import annotations

import argparse
import json
import sys

from flowc.compiler.checker import check_path
from flowc.dsl.diagnostics import Diagnostic, sort_key
from flowc.dsl.fmt import format_source
from flowc.runtime.cli_common import EXIT_ERRORS, EXIT_OK, flow_files, print_diagnostics


def check(args: argparse.Namespace) -> int:
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
    else:
        print_diagnostics(ordered, texts)
    has_errors = any(d.severity.value == "error" for d in ordered)
    return EXIT_ERRORS if has_errors else EXIT_OK


def fmt(args: argparse.Namespace) -> int:
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
