"""A checked unit as the files `flowc compile` writes: plans, DDL and the manifest.

Pure: from a CheckResult to a mapping of file name to content, deterministic so that
compiling twice gives byte-identical files (reviewable diffs, cacheable builds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import black

from flowc.compiler import ir
from flowc.compiler.checker import CheckResult
from flowc.compiler.lower import lower_program
from flowc.compiler.manifest import Manifest, build_manifest
from flowc.compiler.polars_plan import polars_module
from flowc.compiler.sql.ddl import render_ddl
from flowc.compiler.sql.ddl_timescale import render_continuous_aggregate
from flowc.compiler.sql.pipeline import continuous_aggregate
from flowc.compiler.sql.spec import ColumnSpec, ContinuousAggregateSpec, TableSpec

DIALECTS = ("timescale", "postgres", "duckdb")
_LAYOUT = black.Mode(line_length=100)


def format_python(source: str) -> str:
    """Generated Python laid out as a person would (black checks the meaning is unchanged)."""
    return black.format_str(source, mode=_LAYOUT)


@dataclass(frozen=True)
class Compiled:
    """Everything compiled from one unit."""

    pipelines: dict[str, ir.PipelineIR]
    files: dict[str, str]
    manifest: Manifest
    tables: dict[str, TableSpec]
    continuous: dict[str, ContinuousAggregateSpec]


def table_spec(persist: ir.Persist) -> TableSpec:
    return TableSpec(
        name=persist.table,
        columns=tuple(ColumnSpec(name, type_) for name, type_ in persist.schema.fields),
        time=persist.time,
        key=persist.key,
        chunk=persist.chunk,
        retention=persist.retention,
        compress_after=persist.compress_after,
        indexes=persist.indexes,
    )


def compile_unit(result: CheckResult, *, pretty: bool = False) -> Compiled:
    """Plans, DDL per dialect and the manifest of a unit without errors.

    `pretty` lays the plan modules out for people (black, 100 columns): what `flowc
    compile` writes. The runtime runs the same code without spending time on layout.
    """
    pipelines = lower_program(result)
    files: dict[str, str] = {}
    tables: dict[str, TableSpec] = {}
    continuous: dict[str, ContinuousAggregateSpec] = {}
    ddl_files: dict[str, dict[str, str]] = {}
    for name, pipeline in pipelines.items():
        module = polars_module(pipeline, pipeline.file)
        files[f"{name}.py"] = format_python(module) if pretty else module
        if pipeline.persist is None:
            continue
        spec = table_spec(pipeline.persist)
        tables[name] = spec
        ddl_files[name] = {}
        cagg = _continuous_aggregate(pipeline, pipelines)
        for dialect in DIALECTS:
            file = f"{name}.{dialect}.sql"
            if dialect == "timescale" and cagg is not None:
                # TimescaleDB computes this pipeline itself, from its upstream's hypertable:
                # the runtime stores nothing for it there.
                continuous[name] = cagg
                files[file] = _CAGG_NOTE + render_continuous_aggregate(cagg)
            else:
                files[file] = render_ddl(spec, dialect)  # type: ignore[arg-type]
            ddl_files[name][dialect] = file
    manifest = build_manifest(result, pipelines, ddl_files, set(continuous))
    files["manifest.json"] = json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n"
    return Compiled(pipelines, files, manifest, tables, continuous)


def _continuous_aggregate(
    pipeline: ir.PipelineIR, pipelines: dict[str, ir.PipelineIR]
) -> ContinuousAggregateSpec | None:
    upstream = pipelines.get(pipeline.upstream)
    if upstream is None or upstream.persist is None:
        return None
    return continuous_aggregate(pipeline, upstream.persist.table)


_CAGG_NOTE = (
    "-- A continuous aggregate: TimescaleDB keeps this pipeline's rows up to date from its\n"
    "-- upstream's hypertable by policy, so `flowc run` does not write them on TimescaleDB.\n"
)
