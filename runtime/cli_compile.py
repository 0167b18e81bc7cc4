"""`flowc compile`, `explain`, `test`, `lineage` and `graph`: the compiler's commands."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path

import polars as pl

from flowc.compiler.artifacts import compile_unit
from flowc.compiler.graph import build_graph, to_dot, to_mermaid
from flowc.compiler.lineage import LineageTracer, render_lineage
from flowc.compiler.lower import lower_program
from flowc.compiler.polars_plan import PlanModule
from flowc.compiler.sql.pipeline import PipelineSql
from flowc.runtime.cli_common import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    checked,
    flow_files,
    one_file,
)
from flowc.runtime.store_plan import (
    StoreError,
    default_store,
    inspect_store,
    plan_store,
    render_plan,
)
from flowc.runtime.testing import run_tests


def compile_(args: argparse.Namespace) -> int:
    out = Path(args.output)
    status = EXIT_OK
    files = flow_files(args.paths)
    for file in files:
        result = checked(file)
        if result is None:
            status = EXIT_ERRORS
            continue
        compiled = compile_unit(result, pretty=True)
        # Several units write into one directory: each unit's files go in a folder of its name.
        target = out / file.stem if len(files) > 1 else out
        target.mkdir(parents=True, exist_ok=True)
        for name, text in sorted(compiled.files.items()):
            path = target / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        print(f"{file}: {len(compiled.files)} files in {target}", file=sys.stderr)
    return status


def explain(args: argparse.Namespace) -> int:
    result = checked(one_file(args.path))
    if result is None:
        return EXIT_ERRORS
    compiled = compile_unit(result, pretty=True)
    name = args.pipeline
    if name not in compiled.pipelines:
        known = ", ".join(compiled.pipelines) or "none"
        raise UsageError(f"no pipeline `{name}` in {args.path} (pipelines: {known})")
    plan = PlanModule(compiled.files[f"{name}.py"], f"{name}.py")
    empty = pl.LazyFrame(schema=plan.input_schema)
    outputs = plan.plan(empty, dt.datetime.now(dt.UTC))
    sections = [
        f"# Pipeline `{name}`",
        "## Optimized Polars plan (output)",
        outputs["output"].explain(),
        "## The same steps as SQL (DuckDB)",
        PipelineSql("duckdb").query(compiled.pipelines[name]).sql(dialect="duckdb", pretty=True),
    ]
    for dialect in ("timescale", "postgres", "duckdb"):
        ddl = compiled.files.get(f"{name}.{dialect}.sql")
        if ddl:
            sections += [f"## DDL ({dialect})", ddl.rstrip()]
    print("\n\n".join(sections))
    return EXIT_OK


def test(args: argparse.Namespace) -> int:
    status = EXIT_OK
    passed = failed = 0
    for file in flow_files(args.paths):
        result = checked(file)
        if result is None:
            status = EXIT_ERRORS
            continue
        for outcome in run_tests(result):
            if outcome.passed:
                passed += 1
                print(f"ok    {outcome.span.file}: {outcome.name}")
            else:
                failed += 1
                status = EXIT_ERRORS
                print(f"FAIL  {outcome.span.file}: {outcome.name}")
                for failure in outcome.failures:
                    print(f"      {failure}")
    print(f"{passed} passed, {failed} failed")
    return status


def lineage(args: argparse.Namespace) -> int:
    pipeline, _, field = args.field.partition(".")
    if not field:
        raise UsageError("name a field as PIPELINE.FIELD, for example weather.temp_f")
    result = checked(one_file(args.path))
    if result is None:
        return EXIT_ERRORS
    tracer = LineageTracer(lower_program(result))
    traced = tracer.trace(pipeline, field)
    if traced is None:
        raise UsageError(f"no field `{field}` in the output of pipeline `{pipeline}`")
    if args.format == "json":
        print(json.dumps(asdict(traced), indent=2))
    else:
        print(render_lineage(traced))
    return EXIT_OK


def graph(args: argparse.Namespace) -> int:
    result = checked(one_file(args.path))
    if result is None:
        return EXIT_ERRORS
    built = build_graph(result, lower_program(result))
    print(to_dot(built) if args.format == "dot" else to_mermaid(built), end="")
    return EXIT_OK


def plan(args: argparse.Namespace) -> int:
    path = one_file(args.path)
    result = checked(path)
    if result is None:
        return EXIT_ERRORS
    compiled = compile_unit(result)
    url = args.store or default_store(path)
    try:
        with inspect_store(url) as inspector:
            store_plan = plan_store(compiled, inspector)
    except StoreError as error:
        print(f"flowc plan: {error}", file=sys.stderr)
        return EXIT_ERRORS
    print(render_plan(store_plan, allow_breaking=args.allow_breaking))
    if args.sql and store_plan.statements:
        print("\n" + ";\n\n".join(store_plan.statements) + ";")
    return EXIT_ERRORS if store_plan.breaking and not args.allow_breaking else EXIT_OK
