"""The manifest: everything the runtime needs besides the plan modules, as versioned JSON.

Sources and sinks with their validated configuration (secrets appear only as the names of
environment variables, never as values), schedules, the pipeline graph, schemas, storage
and dashboards. `flowc compile` writes it as manifest.json; `flowc run` builds the same
object in memory.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib.metadata import version
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from flowc.compiler import ir
from flowc.compiler.checker import CheckResult
from flowc.compiler.lower import literal
from flowc.dsl import ast

M = TypeVar("M", bound=BaseModel)

MANIFEST_VERSION = 1  # bumped when a field changes meaning or goes away


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Field(_Model):
    name: str
    type: str  # as written in Flow: `float?`, `list<str>`


class Source(_Model):
    name: str
    kind: str
    file: str
    config: dict[str, Any]  # the connector model's JSON; secrets as {"name": VAR}
    fields: list[Field] | None = None  # the declared schema; None for raw json records
    every_seconds: float | None = None
    cron: str | None = None


class Sink(_Model):
    name: str
    kind: str
    file: str
    config: dict[str, Any]


class Rule(_Model):
    id: str
    rule: str
    action: str


class Storage(_Model):
    table: str
    time: str
    key: list[str]
    chunk_seconds: float
    retention_seconds: float | None
    compress_after_seconds: float | None
    batch: int
    indexes: list[list[str]]
    columns: list[Field]
    ddl: dict[str, str]  # dialect -> file name
    continuous_aggregate: bool = False
    upsert: bool = False  # replace rows on the key (an aggregate's recomputed windows)


class Pipeline(_Model):
    name: str
    file: str
    upstream: str
    upstream_kind: Literal["source", "pipeline"]
    downstream: list[str]
    input: list[Field]
    output: list[Field]
    rules: list[Rule]
    storage: Storage | None
    cache: int
    sinks: list[str]
    time_column: str | None
    plan: str  # the plan module's file name


class DashboardItem(_Model):
    kind: Literal["chart", "table"]
    chart: str | None = None
    options: dict[str, Any]


class Dashboard(_Model):
    name: str
    title: str
    refresh_seconds: float | None
    items: list[DashboardItem]


class Manifest(_Model):
    version: Literal[1] = 1
    flowc: str
    root: str
    sources: list[Source]
    sinks: list[Sink]
    pipelines: list[Pipeline]
    dashboards: list[Dashboard]


def _config(model: BaseModel | None) -> dict[str, Any]:
    """A connector's validated settings as JSON; unset ones are left out."""
    return model.model_dump(mode="json", exclude_none=True) if model is not None else {}


def connector_config(model: type[M], config: dict[str, Any]) -> M:
    """A connector's settings read back from the manifest, in the model's JSON mode (which
    reads durations written as `"5m"` and secrets written as `{"name": VAR}`)."""
    return model.model_validate_json(json.dumps(config))


def _fields(schema: ir.Schema) -> list[Field]:
    return [Field(name=n, type=str(t)) for n, t in schema.fields]


def _seconds(value: dt.timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def build_manifest(
    result: CheckResult,
    pipelines: dict[str, ir.PipelineIR],
    ddl_files: dict[str, dict[str, str]],
    continuous: set[str],
) -> Manifest:
    """The manifest of a checked, lowered unit; `ddl_files` maps pipeline -> dialect -> file."""
    sources = []
    for name, info in sorted(result.sources.items()):
        config = _config(info.config)
        every = getattr(info.config, "every", None)
        schema = None
        if not info.record.open:
            schema = [Field(name=n, type=str(f.type)) for n, f in info.record.fields.items()]
        sources.append(
            Source(
                name=name,
                kind=info.kind,
                file=info.file,
                config=config,
                fields=schema,
                every_seconds=_seconds(every) if isinstance(every, dt.timedelta) else None,
                cron=getattr(info.config, "cron", None),
            )
        )
    sinks = [
        Sink(
            name=name,
            kind=info.kind,
            file=info.file,
            config=_config(info.config),
        )
        for name, info in sorted(result.sinks.items())
    ]
    out_pipelines = []
    for name, p in pipelines.items():
        storage = None
        if p.persist is not None:
            storage = Storage(
                table=p.persist.table,
                time=p.persist.time,
                key=list(p.persist.key),
                chunk_seconds=p.persist.chunk.total_seconds(),
                retention_seconds=_seconds(p.persist.retention),
                compress_after_seconds=_seconds(p.persist.compress_after),
                batch=p.persist.batch,
                indexes=[list(i) for i in p.persist.indexes],
                columns=_fields(p.persist.schema),
                ddl=ddl_files.get(name, {}),
                continuous_aggregate=name in continuous,
                upsert=p.persist.upsert,
            )
        out_pipelines.append(
            Pipeline(
                name=name,
                file=p.file,
                upstream=p.upstream,
                upstream_kind=p.upstream_kind,
                downstream=sorted(q.name for q in pipelines.values() if q.upstream == name),
                input=_fields(p.input),
                output=_fields(p.output),
                rules=[Rule(id=r.id, rule=r.text, action=r.action) for r in p.rules],
                storage=storage,
                cache=p.cache,
                sinks=list(p.sinks),
                time_column=p.time_column,
                plan=f"{name}.py",
            )
        )
    return Manifest(
        flowc=version("flowc"),
        root=result.unit.root,
        sources=sources,
        sinks=sinks,
        pipelines=out_pipelines,
        dashboards=[_dashboard(d) for d in _dashboards(result)],
    )


def _dashboards(result: CheckResult) -> list[ast.Dashboard]:
    return [
        decl
        for module in result.unit.modules.values()
        for decl in module.decls
        if isinstance(decl, ast.Dashboard)
    ]


def _dashboard(decl: ast.Dashboard) -> Dashboard:
    title = decl.name.name
    refresh: float | None = None
    items: list[DashboardItem] = []
    for item in decl.items:
        if isinstance(item, ast.DashSetting):
            value = _plain(item.value)
            if item.key.name == "title" and isinstance(value, str):
                title = value
            elif item.key.name == "refresh" and isinstance(value, float):
                refresh = value
        elif isinstance(item, ast.DashChart):
            options = {f.name.name: _plain(f.value) for f in item.options.fields}
            items.append(DashboardItem(kind="chart", chart=item.kind.name, options=options))
        else:
            options = {f.name.name: _plain(f.value) for f in item.options.fields}
            items.append(DashboardItem(kind="table", options=options))
    return Dashboard(name=decl.name.name, title=title, refresh_seconds=refresh, items=items)


def _plain(expr: ast.Expr) -> Any:
    """A dashboard option as JSON: names as strings, durations in seconds."""
    match expr:
        case ast.Name(name=name):
            return name
        case ast.Literal(kind="duration", value=int(micros)):
            return dt.timedelta(microseconds=micros).total_seconds()
        case ast.Literal():
            value = literal(expr).value
            return value.isoformat() if isinstance(value, dt.date) else value
        case ast.ListExpr(items=items):
            return [_plain(i) for i in items]
    return None
