"""Column-level lineage from the IR: where a field comes from, and where it goes.

Backwards, a field is traced through every step that makes or renames it, down to the
source fields it is computed from (crossing pipeline-to-pipeline edges); forwards, to the
table columns, sinks and downstream fields it reaches.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flowc.compiler import ir


@dataclass
class Origin:
    """How a field is made at one step: the expression, and the fields it reads."""

    pipeline: str
    field: str
    step: str  # "map", "derive", "aggregate", "rename", "input"
    expression: str
    functions: list[str]
    span: str
    inputs: list[Origin] = dataclasses.field(default_factory=list)


@dataclass
class Destination:
    kind: str  # "table", "sink", "pipeline"
    name: str
    field: str


@dataclass
class Lineage:
    pipeline: str
    field: str
    type: str
    origin: Origin
    destinations: list[Destination]


def describe(expr: ir.Expr) -> str:
    """A short, readable rendering of an IR expression (for lineage and explain)."""
    match expr:
        case ir.Col(name=name):
            return name
        case ir.Lit(value=value):
            return repr(value) if not isinstance(value, str) else f'"{value}"'
        case ir.Call(fn=fn, args=args):
            return f"{fn}(" + ", ".join(describe(a) for a in args) + ")"
        case ir.Op(op=op, args=(only,)):
            return f"{'-' if op == 'neg' else 'not '}{describe(only)}"
        case ir.Op(op=op, args=(left, right)):
            return f"({describe(left)} {op} {describe(right)})"
        case ir.Cond(branches=branches, otherwise=otherwise):
            parts = " ".join(f"if {describe(c)} then {describe(v)} else" for c, v in branches)
            return f"{parts} {describe(otherwise)}"
        case ir.GetField(value=value, name=name):
            return f"{describe(value)}.{name}"
        case ir.GetIndex(value=value, index=index):
            return f"{describe(value)}[{describe(index)}]"
        case ir.MakeList(items=items):
            return "[" + ", ".join(describe(i) for i in items) + "]"
        case ir.MakeStruct(fields=fields):
            return "{ " + ", ".join(f"{n}: {describe(v)}" for n, v in fields) + " }"
    return "?"


def _functions(expr: ir.Expr) -> list[str]:
    found: list[str] = []
    if isinstance(expr, ir.Call) and not expr.fn.startswith("__"):
        found.append(expr.fn)
    for child in ir.children(expr):
        found += [f for f in _functions(child) if f not in found]
    return found


class LineageTracer:
    def __init__(self, pipelines: dict[str, ir.PipelineIR]) -> None:
        self.pipelines = pipelines

    def trace(self, pipeline: str, name: str) -> Lineage | None:
        p = self.pipelines.get(pipeline)
        if p is None or p.output.get(name) is None:
            return None
        origin = self._origin(p, len(p.steps), name)
        return Lineage(pipeline, name, str(p.output.get(name)), origin, self._forward(p, name))

    def _origin(self, p: ir.PipelineIR, before: int, name: str) -> Origin:
        """Where field `name` of pipeline `p`, as it is before step `before`, is made."""
        for index in range(before - 1, -1, -1):
            step = p.steps[index]
            match step:
                case ir.Project(assignments=assignments, keep=keep):
                    made = dict(assignments)
                    if name in made:
                        return self._made(p, index, name, "derive" if keep else "map", made[name])
                case ir.Rename(pairs=pairs):
                    renamed = {new: old for old, new in pairs}
                    if name in renamed:
                        inner = self._origin(p, index, renamed[name])
                        return Origin(p.name, name, "rename", renamed[name], [], "", [inner])
                case ir.Aggregate(time=time, aggregations=aggregations):
                    made = dict(aggregations)
                    if name in made:
                        return self._made(p, index, name, "aggregate", made[name])
                    if name == "bucket":
                        inner = self._origin(p, index, time)
                        text = f"truncate({time}, {step.every})"
                        return Origin(p.name, name, "aggregate", text, [], "", [inner])
        # An input field: the upstream's.
        upstream = self.pipelines.get(p.upstream)
        if upstream is not None and upstream.output.get(name) is not None:
            return self._origin(upstream, len(upstream.steps), name)
        return Origin(p.upstream, name, "input", f"{p.upstream}.{name}", [], "")

    def _made(self, p: ir.PipelineIR, index: int, name: str, step: str, expr: ir.Expr) -> Origin:
        inputs = [self._origin(p, index, used) for used in sorted(ir.columns_used(expr))]
        span = str(getattr(expr, "span", ""))
        return Origin(p.name, name, step, describe(expr), _functions(expr), span, inputs)

    def _forward(self, p: ir.PipelineIR, name: str) -> list[Destination]:
        out: list[Destination] = []
        if p.persist is not None and p.persist.schema.get(name) is not None:
            out.append(Destination("table", p.persist.table, name))
        out += [Destination("sink", sink, name) for sink in p.sinks]
        for child in self.pipelines.values():
            if child.upstream != p.name:
                continue
            for produced in self._fields_using(child, name):
                out.append(Destination("pipeline", child.name, produced))
                out += self._forward(child, produced)
        return out

    def _fields_using(self, p: ir.PipelineIR, name: str) -> list[str]:
        """The output fields of `p` that its input field `name` flows into."""
        live = {name}
        for step in p.steps:
            match step:
                case ir.Project(assignments=assignments, keep=keep):
                    made = {n for n, e in assignments if ir.columns_used(e) & live}
                    kept = live - {n for n, _ in assignments} if keep else set()
                    live = kept | made
                case ir.Rename(pairs=pairs):
                    mapping = dict(pairs)
                    live = {mapping.get(n, n) for n in live}
                case ir.Select(names=names):
                    live &= set(names)
                case ir.Drop(names=names):
                    live -= set(names)
                case ir.Aggregate(time=time, by=by, aggregations=aggregations):
                    made = {n for n, e in aggregations if ir.columns_used(e) & live}
                    live = made | (live & set(by)) | ({"bucket"} if time in live else set())
        return sorted(live & set(p.output.names()))


def render_lineage(lineage: Lineage) -> str:
    """The lineage as an indented tree for a terminal."""
    lines = [f"{lineage.pipeline}.{lineage.field}: {lineage.type}"]

    def walk(origin: Origin, depth: int) -> None:
        pad = "  " * depth
        if origin.step == "input":
            lines.append(f"{pad}<- source field {origin.expression}")
            return
        where = f" ({origin.span})" if origin.span else ""
        calls = f"  [functions: {', '.join(origin.functions)}]" if origin.functions else ""
        lines.append(
            f"{pad}<- {origin.step} in {origin.pipeline}{where}: "
            f"{origin.field} = {origin.expression}{calls}"
        )
        for item in origin.inputs:
            walk(item, depth + 1)

    walk(lineage.origin, 1)
    for destination in lineage.destinations:
        lines.append(
            f"  -> {destination.kind} {destination.name}.{destination.field}"
            if destination.kind != "sink"
            else f"  -> sink {destination.name}"
        )
    return "\n".join(lines)
