"""The `flowc` command line. docs/cli.md is generated from this parser (`make docs`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version

from flowc.runtime import cli_compile, cli_front, cli_run
from flowc.runtime.cli_common import EXIT_USAGE, UsageError

_FORMATS = ("text", "json")


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
        choices=_FORMATS,
        default="text",
        help="text for people (default) or json for tools",
    )
    check.set_defaults(handler=cli_front.check)

    fmt = commands.add_parser(
        "fmt",
        help="rewrite .flow files in the canonical layout",
        description="Format .flow files in place. Files with syntax errors are left alone. "
        "Exit status: 0 done (or, with --check, nothing to change), 1 a file would change "
        "or has syntax errors, 2 usage error.",
    )
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    fmt.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any file is not formatted"
    )
    fmt.set_defaults(handler=cli_front.fmt)

    compile_ = commands.add_parser(
        "compile",
        help="write each pipeline's Polars plan, DDL and the manifest",
        description="Compile .flow files into reviewable files: per pipeline a Python module "
        "building its Polars plan (<pipeline>.py) and, when it persists, its DDL for "
        "TimescaleDB, PostgreSQL and DuckDB (<pipeline>.<dialect>.sql), plus manifest.json. "
        "The output is byte-identical when compiled twice. With several files, each unit "
        "gets a folder named after its file.",
    )
    compile_.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    compile_.add_argument(
        "-o", "--output", default="build", metavar="DIR", help="where to write (default: build)"
    )
    compile_.set_defaults(handler=cli_compile.compile_)

    explain = commands.add_parser(
        "explain",
        help="show a pipeline's optimized Polars plan and its SQL",
        description="Print the optimized Polars plan of a pipeline, the same steps as SQL, "
        "and its DDL, for a person to read.",
    )
    explain.add_argument("path", metavar="PATH", help="a .flow file")
    explain.add_argument("pipeline", metavar="PIPELINE", help="the pipeline's name")
    explain.set_defaults(handler=cli_compile.explain)

    test = commands.add_parser(
        "test",
        help="run the `test` blocks of .flow files",
        description="Run every `test` block: the given records go through the compiled "
        "plans, downstream pipelines included, and the expected records are compared. "
        "No server is needed. Exit status: 0 all passed, 1 a test failed or a file has "
        "errors, 2 usage error.",
    )
    test.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    test.set_defaults(handler=cli_compile.test)

    lineage = commands.add_parser(
        "lineage",
        help="trace a field from source fields to tables and sinks",
        description="Show which source fields, through which steps and functions, make a "
        "pipeline's field, and which tables, sinks and downstream fields it reaches.",
    )
    lineage.add_argument("path", metavar="PATH", help="a .flow file")
    lineage.add_argument("field", metavar="PIPELINE.FIELD", help="for example weather.temp_f")
    lineage.add_argument("--format", choices=_FORMATS, default="text", help="text or json")
    lineage.set_defaults(handler=cli_compile.lineage)

    graph = commands.add_parser(
        "graph",
        help="draw sources, pipelines, tables and sinks",
        description="Print the graph of a program as Mermaid (renders on GitHub and "
        "GitLab) or Graphviz DOT.",
    )
    graph.add_argument("path", metavar="PATH", help="a .flow file")
    graph.add_argument(
        "--format", choices=("mermaid", "dot"), default="mermaid", help="mermaid (default) or dot"
    )
    graph.set_defaults(handler=cli_compile.graph)
    plan = commands.add_parser(
        "plan",
        help="show what `flowc run` would change in a store",
        description="Compare the tables a program persists to with a store's live tables: "
        "tables to create, columns to add, types to widen, and breaking changes, which "
        "`flowc run` refuses unless allowed. Exit status: 0 the plan can be applied, "
        "1 errors or refused breaking changes, 2 usage error.",
    )
    plan.add_argument("path", metavar="PATH", help="a .flow file")
    plan.add_argument(
        "--store",
        metavar="URL",
        help="postgresql://... or a DuckDB file (default: $FLOWC_STORE, else "
        ".flowc/<file>.duckdb beside the program)",
    )
    plan.add_argument(
        "--allow-breaking",
        action="store_true",
        help="accept breaking changes: they are still never applied, the rest is",
    )
    plan.add_argument("--sql", action="store_true", help="also print the SQL statements")
    plan.set_defaults(handler=cli_compile.plan)

    run = commands.add_parser(
        "run",
        help="run a program: poll, receive webhooks, process, store, send",
        description="Compile a program in memory, create or migrate its tables in the store "
        "(the same plan `flowc plan` shows), and run it: polled sources on their schedule, "
        "webhooks and the API on the HTTP server, until SIGINT or SIGTERM. With --once, run "
        "every polled source once, wait for everything downstream, print a summary and exit.",
    )
    run.add_argument("path", metavar="PATH", help="a .flow file")
    run.add_argument(
        "--store",
        metavar="URL",
        help="postgresql://... (TimescaleDB when installed) or a DuckDB file (default: "
        "$FLOWC_STORE, else .flowc/<file>.duckdb beside the program)",
    )
    run.add_argument("--once", action="store_true", help="run the polled sources once and exit")
    run.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); beyond loopback the API and "
        "dashboards need FLOWC_API_TOKEN",
    )
    run.add_argument("--port", type=int, default=8321, help="port to listen on (default 8321)")
    run.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text with a live status on a terminal (default), or JSON lines",
    )
    run.add_argument(
        "--allow-breaking",
        action="store_true",
        help="start even when the store has breaking differences (they are not applied)",
    )
    run.set_defaults(handler=cli_run.run)

    lsp = commands.add_parser(
        "lsp",
        help="run the language server for editors (LSP over stdio)",
        description="Serve the Language Server Protocol on stdin and stdout: diagnostics, "
        "hover, completion, navigation, rename, formatting and highlighting of .flow files. "
        "Editors start it themselves (see docs/editors.md).",
    )
    lsp.set_defaults(handler=_lsp)
    return parser


def _lsp(args: argparse.Namespace) -> int:
    from flowc.compiler.lsp.cli import run_lsp  # pygls loads only when the server runs

    return run_lsp()


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
