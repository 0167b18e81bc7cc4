"""What hover and completion say about things: declarations, functions, keys, kinds, types.

The words come from where the rest of flowc keeps them (a stdlib function's declaration, a
connector model's field descriptions and docstring), so the editor says what docs/stdlib.md
and docs/connectors.md say. The few built-in settings that have no model (`persist`,
dashboards) are described here, in the words of docs/language.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowc.compiler.checker import CheckResult
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.span import Span
from flowc.stdlib.connectors import SINKS, SOURCES
from flowc.stdlib.connectors.base import annotation_members

# The same spelling of a key's type and default as docs/connectors.md.
from flowc.stdlib.connectors.docgen import default_text, field_type_text
from flowc.stdlib.signature import Function, Nulls

PERSIST_DOCS = {
    "time": "the time column: a field of type `timestamp`, never null",
    "key": "one field, or several in parentheses `(a, b)`: storing a row whose key is "
    "already stored does not duplicate it",
    "chunk": "a duration: the hypertable's chunk interval (default `1d`)",
    "retention": "a duration: older chunks are dropped",
    "compress_after": "a duration: older chunks are compressed",
    "batch": "rows per insert statement (default `1000`)",
    "indexes": "a list of fields or tuples of fields to index: `[device_id, (zone, ts)]`",
}
DASHBOARD_DOCS = {
    "title": "the page title",
    "refresh": "how often the page reloads its data, besides the live updates",
    "description": "a line of text under the title",
}
CHART_DOCS = {
    "from": "the pipeline to show (required)",
    "x": "the field on the horizontal axis, usually the time column",
    "y": "the field on the vertical axis",
    "series": "a field whose values split the data into one line, bar group or area each",
    "range": "a duration literal: how far back the chart reaches",
    "title": "the chart's title",
}
TABLE_DOCS = {
    "from": "the pipeline to show (required)",
    "last": "an integer literal: how many of the latest records to show",
    "fields": "a list of field names; all fields when left out",
    "title": "the table's title",
}
CHART_KINDS = ("line", "bar", "area", "scatter")
ACTION_DOCS = {
    "dead_letter": "the record is removed and kept in the dead-letter store (the default)",
    "drop": "the record is removed and counted",
    "warn": "the record is kept and counted as a warning",
    "fail": "the whole batch is rejected: nothing of it is stored or sent",
}
TYPE_DOCS = {
    "int": "64-bit signed integers",
    "float": "64-bit floating point numbers",
    "bool": "`true` or `false`",
    "str": "UTF-8 text",
    "timestamp": "an instant in UTC, with microsecond precision",
    "date": "a calendar date",
    "duration": "a length of time, with microsecond precision",
    "json": "any JSON value, not yet converted",
    "list": "`list<T>`: a list of values of type `T`",
}
_NULLS = {
    Nulls.PROPAGATE: "null when an argument is null",
    Nulls.FALLIBLE: "null when the input does not convert (the result is always nullable)",
    Nulls.NEVER: "never null",
    Nulls.SKIP: "null arguments are skipped; null only when all are",
}


def code(text: str) -> str:
    return f"```flow\n{text}\n```"


def function_doc(function: Function) -> str:
    """A stdlib function: signature, doc, null behaviour and parameters."""
    lines = [code(function.signature), "", function.doc, "", f"*Null:* {_NULLS[function.nulls]}"]
    if function.params:
        lines.append("")
        lines += [f"- `{p.name}`: {p.doc}" for p in function.params]
    if function.aggregate:
        lines += ["", "An aggregate: only inside `aggregate { ... }`."]
    return "\n".join(lines)


def user_fn_signature(decl: ast.Fn, result: CheckResult | None, file: str) -> str:
    decls = result.decls if result is not None else None
    signature = decls.fn_signature(decl.name.name, file) if decls else None
    if signature is None:
        return f"fn {decl.name.name}(" + ", ".join(p.name.name for p in decl.params) + ")"
    params = ", ".join(f"{n}: {ty}" for n, ty in signature.params)
    return f"fn {signature.name}({params}) -> {signature.result}"


def config_key_doc(owner: str, path: tuple[str, ...]) -> str | None:
    """The description of a configuration key, from the connector's model or the tables."""
    role, _, kind = owner.partition(":")
    key = path[-1] if path else ""
    tables = {"persist": PERSIST_DOCS, "dashboard": DASHBOARD_DOCS, "chart": CHART_DOCS,
              "table": TABLE_DOCS}  # fmt: skip
    if role in tables:
        doc = tables[role].get(key) if len(path) == 1 else None
        return f"**{key}** ({role} setting): {doc}" if doc else None
    info = config_field(role, kind, path)
    if info is None:
        return None
    text = f"**{key}**: `{field_type_text(info)}`, default {default_text(info)}"
    return text + (f"\n\n{info.description}" if info.description else "")


def config_model(role: str, kind: str, path: tuple[str, ...]) -> type[BaseModel] | None:
    """The model of the block at `path` inside a source or sink of `kind` (`()`: the top)."""
    registry = SOURCES if role == "source" else SINKS
    connector = registry.get(kind)
    model: type[BaseModel] | None = connector.model if connector else None
    for key in path:
        if model is None:
            return None
        info = model.model_fields.get(key)
        model = _block_of(info.annotation) if info is not None else None
    return model


def config_field(role: str, kind: str, path: tuple[str, ...]) -> FieldInfo | None:
    if role not in ("source", "sink") or not path:
        return None
    model = config_model(role, kind, path[:-1])
    return model.model_fields.get(path[-1]) if model is not None else None


def _block_of(annotation: Any) -> type[BaseModel] | None:
    for member in annotation_members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def kind_doc(name: str, owner: str) -> str | None:
    if owner == "chart":
        return f"**chart {name}**: one of " + ", ".join(CHART_KINDS)
    registry = SOURCES if owner == "source" else SINKS
    connector = registry.get(name)
    if connector is None:
        return None
    return f"**{name}** {owner}\n\n{connector.doc}"


def decl_doc(decl: ast.Decl, result: CheckResult | None, file: str, comment: str) -> str:
    """A declaration: its header as code, what the checker knows of it, its doc comment."""
    body = ""
    match decl:
        case ast.Const():
            typed = (
                result.decls.check_const(decl.name.name, file) if result and result.decls else None
            )
            type_ = f": {typed.type}" if typed is not None else ""
            value = _text(result, file, decl.value.span) if result else ""
            shown = f" = {value}" if value and len(value) <= 60 and "\n" not in value else ""
            header = f"const {decl.name.name}{type_}{shown}"
        case ast.Fn():
            header = user_fn_signature(decl, result, file)
        case ast.TypeDecl():
            named = (
                result.decls.named_type(decl.name.name, file) if result and result.decls else None
            )
            fields = named.fields if named is not None else ()
            header = f"type {decl.name.name} " + _fields(fields)
        case ast.Source():
            header = f"source {decl.name.name}: {decl.kind.name}"
            info = result.sources.get(decl.name.name) if result else None
            if info is not None:
                fields = tuple((n, f.type) for n, f in info.record.fields.items())
                body = "fields: " + (_fields(fields) if fields else "any (raw json)")
        case ast.Sink():
            header = f"sink {decl.name.name}: {decl.kind.name}"
        case ast.Pipeline():
            arrow = f" -> {decl.output_type.name}" if decl.output_type else ""
            header = f"pipeline {decl.name.name} from {decl.source.name}{arrow}"
            pipeline = result.pipelines.get(decl.name.name) if result else None
            if pipeline is not None:
                fields = tuple((n, f.type) for n, f in pipeline.output.fields.items())
                body = "output: " + _fields(fields)
                if pipeline.persist is not None:
                    body += f"\n\npersisted in `{pipeline.persist.table}`"
        case ast.Dashboard():
            header = f"dashboard {decl.name.name}"
        case _:
            header = ""
    parts = [code(header)]
    if body:
        parts.append(body if not body.startswith(("fields", "output")) else _code_tail(body))
    if comment:
        parts.append(comment)
    return "\n\n".join(parts)


def _text(result: CheckResult, file: str, span: Span) -> str:
    lines = result.unit.texts.get(file, "").split("\n")
    if span.line != span.end_line or not 0 < span.line <= len(lines):
        return ""
    return lines[span.line - 1][span.column - 1 : span.end_column - 1]


def _fields(fields: tuple[tuple[str, t.Type], ...]) -> str:
    return "{ " + ", ".join(f"{n}: {ty}" for n, ty in fields) + " }"


def _code_tail(body: str) -> str:
    label, _, rest = body.partition(": ")
    head, _, tail = rest.partition("\n\n")
    return f"{label}: `{head}`" + (f"\n\n{tail}" if tail else "")


def doc_comment(module: ast.Module, decl: ast.Decl) -> str:
    """The `//` lines right above a declaration, without the slashes."""
    by_line = {c.span.line: c.text for c in module.comments}
    lines: list[str] = []
    line = decl.span.line - 1
    while line in by_line:
        lines.insert(0, by_line[line].removeprefix("//").strip())
        line -= 1
    return " ".join(lines)
