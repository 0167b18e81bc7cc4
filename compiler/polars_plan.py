"""A pipeline's IR as a readable Python module that builds its Polars lazy plan.

`flowc compile` writes this module for review; `flowc run` and `flowc test` execute the
same text, so what is reviewed is what runs. The module's `plan(records, now)` takes the
batch as a LazyFrame with `INPUT_SCHEMA` and returns named LazyFrames:

- "output": the records the pipeline publishes (its broadcast and downstream input);
- "rejected": one row per dead-lettered record (and per record failing a `fail` rule):
  `__row` (its position in the input batch, by which the runtime finds the raw record;
  null after an `aggregate`), `rule`, `action`, `reason`, and after an `aggregate`
  `record` (the row the rule saw, as JSON; null before, where the raw record is kept);
- "counts": per `drop` and `warn` rule (by rule id), how many records failed it;
- "persist", "cache", "sink:<name>": the records at the step that stores, caches or
  sends them (usually the same frame as "output");
- "state:<step>": what a step remembers for the next batch (the keys a `dedupe ...
  within` saw): pass the collected frames back as `state` with the next batch.

Collect them together (`pl.collect_all`) so Polars computes shared work once.
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version

import polars as pl

from flowc.compiler import ir
from flowc.compiler.polars_expr import PolarsExprs, dtype
from flowc.dsl import types as t

ROW = "__row"
RULE = "__rule"
# Which rule is reported when a record fails several: the one with the strongest action.
_STRENGTH: dict[str, int] = {"fail": 0, "dead_letter": 1, "drop": 2}
_INDENT = "    "


def _unit(every: dt.timedelta) -> str:
    """A Polars duration string (`1h`, `90m`, `500ms`) for a window."""
    micros = every // dt.timedelta(microseconds=1)
    for suffix, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000),
                         ("s", 1_000_000), ("ms", 1_000)):  # fmt: skip
        if micros % size == 0:
            return f"{micros // size}{suffix}"
    return f"{micros}us"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str = "", depth: int = 1) -> None:
        self.lines.append(f"{_INDENT * depth}{text}" if text else "")

    def block(self, head: str, items: list[str], tail: str, depth: int = 1) -> None:
        self.line(head, depth)
        for item in items:
            self.line(f"{item},", depth + 1)
        self.line(tail, depth)


def polars_module(pipeline: ir.PipelineIR, source_file: str) -> str:
    """The Python source of `pipeline`'s plan module."""
    exprs = PolarsExprs("now")
    w = _Writer()
    w.line("def plan(", 0)
    w.line("records: pl.LazyFrame,")
    w.line("now: dt.datetime,")
    w.line("state: dict[str, pl.DataFrame] | None = None,")
    w.line(") -> dict[str, pl.LazyFrame]:", 0)
    w.line(f'"""The plan of `{pipeline.name}` for one batch; `now` is the batch\'s time.')
    w.line("")
    w.line("`state` holds what steps remember between batches (the keys `dedupe ... within`")
    w.line("has seen), as returned under the `state:` outputs of the previous batch.")
    w.line('"""')
    w.line("state = state or {}")
    w.line(f"frame = records.with_row_index({ROW!r})")
    w.line("rejected: list[pl.LazyFrame] = []")
    w.line("counts: list[pl.LazyFrame] = []")
    w.line("outputs: dict[str, pl.LazyFrame] = {}")
    has_row = True
    schemas = ir.step_schemas(pipeline)
    for index, step in enumerate(pipeline.steps):
        w.line()
        before = dict(schemas[index - 1].fields) if index else dict(pipeline.input.fields)
        if isinstance(step, ir.Dedupe) and step.within is not None:
            _remembered_dedupe(w, step, index, before)
            continue
        if isinstance(step, ir.Aggregate):
            _aggregate(w, exprs, step, index, before)
            has_row = False
            continue
        has_row = _step(w, exprs, step, has_row)
    w.line()
    w.line(f"outputs['output'] = frame.drop({ROW!r}, strict=False)")
    w.line("outputs['rejected'] = _concat(rejected, REJECTED_SCHEMA)")
    w.line("outputs['counts'] = _concat(counts, COUNTS_SCHEMA)")
    w.line("return outputs")
    body = "\n".join(w.lines) + "\n"
    return _header(pipeline, source_file, _plugins(body)) + body


def _plugins(body: str) -> str:
    """Imports of Polars plugins whose expression namespaces the plan uses."""
    if ".chash." in body or ".nchash." in body:
        return "import polars_hash  # noqa: F401 - registers the .chash and .nchash namespaces\n"
    return ""


def _header(pipeline: ir.PipelineIR, source_file: str, plugins: str = "") -> str:
    def schema(fields: ir.Schema) -> str:
        if not fields.fields:
            return "{}"
        rows = "".join(f"    {name!r}: {dtype(type_)},\n" for name, type_ in fields.fields)
        return "{\n" + rows + "}"

    rules = "".join(
        f"    {{'id': {r.id!r}, 'rule': {r.text!r}, 'action': {r.action!r}}},\n"
        for r in pipeline.rules
    )
    return f'''"""Pipeline `{pipeline.name}` of {source_file}, compiled by flowc {version("flowc")}.

Generated code: edit the .flow file and run `flowc compile` again. See
`flowc.compiler.polars_plan` for what `plan` returns.
"""

import datetime as dt

import polars as pl
{plugins}
PIPELINE = {pipeline.name!r}
UPSTREAM = {pipeline.upstream!r}

INPUT_SCHEMA = {schema(pipeline.input)}

OUTPUT_SCHEMA = {schema(pipeline.output)}

RULES = [
{rules}]

REJECTED_SCHEMA = {{
    {ROW!r}: pl.UInt32,
    "rule": pl.String,
    "action": pl.String,
    "reason": pl.String,
    "record": pl.String,
}}

COUNTS_SCHEMA = {{"rule": pl.String, "count": pl.UInt32}}


def _concat(frames: list[pl.LazyFrame], schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    return pl.concat(frames) if frames else pl.LazyFrame(schema=schema)


def _kept(
    state: dict[str, pl.DataFrame], name: str, schema: dict[str, pl.DataType]
) -> pl.LazyFrame:
    """The rows an `aggregate` kept of its open windows, marked as already seen."""
    kept = state.get(name)
    frame = kept.lazy() if kept is not None else pl.LazyFrame(schema=schema)
    return frame.with_columns(pl.lit(True).alias("__old"))


def _seen(
    state: dict[str, pl.DataFrame],
    name: str,
    keys: dict[str, pl.DataType],
    since: dt.datetime,
) -> pl.LazyFrame:
    """The keys a `dedupe ... within` step saw since `since`."""
    schema = {{**keys, "__seen_at": pl.Datetime("us", "UTC")}}
    seen = state.get(name)
    frame = seen.lazy() if seen is not None else pl.LazyFrame(schema=schema)
    return frame.filter(pl.col("__seen_at") >= since)


'''


def _cast(code: str, type_: t.Type) -> str:
    return f"{code}.cast({dtype(type_)})"


def _step(w: _Writer, exprs: PolarsExprs, step: ir.Step, has_row: bool) -> bool:
    """Write one step; returns whether the frame still has the input row numbers."""
    match step:
        case ir.Project(assignments=assignments, keep=keep):
            items = [f"{_cast(exprs.lower(e), e.type)}.alias({n!r})" for n, e in assignments]
            if keep:
                w.line("# derive")
                w.block("frame = frame.with_columns(", items, ")")
            else:
                w.line("# map")
                w.block("frame = frame.select(", [f"pl.col({ROW!r})", *items], ")")
        case ir.Filter(condition=condition):
            w.line("# where: a null condition drops the record, like false")
            w.line(f"frame = frame.filter({exprs.lower(condition)})")
        case ir.Select(names=names):
            w.line("# select")
            w.line(f"frame = frame.select({[ROW, *names]!r})")
        case ir.Drop(names=names):
            w.line("# drop")
            w.line(f"frame = frame.drop({list(names)!r})")
        case ir.Rename(pairs=pairs):
            w.line("# rename")
            w.line(f"frame = frame.rename({dict(pairs)!r})")
        case ir.Validate(rules=rules):
            _validate(w, exprs, rules, has_row)
        case ir.Dedupe(keys=keys):
            w.line("# dedupe: the first record of each key in the batch is kept")
            w.line(
                f"frame = frame.unique(subset={list(keys)!r}, keep='first', maintain_order=True)"
            )
        case ir.Aggregate():
            raise AssertionError("aggregates are written by polars_module")
        case ir.Tap(kind=kind, name=name):
            key = kind if kind != "sink" else f"sink:{name}"
            w.line(f"# {kind} {name}")
            w.line(f"outputs[{key!r}] = frame.drop({ROW!r}, strict=False)")
    return has_row


def _remembered_dedupe(w: _Writer, step: ir.Dedupe, index: int, schema: dict[str, t.Type]) -> None:
    """`dedupe ... within D`: keys seen less than D ago, in this batch or an earlier one."""
    keys = list(step.keys)
    assert step.within is not None
    within = step.within // dt.timedelta(microseconds=1)
    key_schema = "{" + ", ".join(f"{k!r}: {dtype(schema[k])}" for k in keys) + "}"
    name = f"state:dedupe:{index}"
    w.line(f"# dedupe within {_unit(step.within)}: keys are remembered across batches")
    w.line(
        f"seen = _seen(state, {name!r}, {key_schema}, now - dt.timedelta(microseconds={within}))"
    )
    w.line("frame = frame.unique(")
    w.line(f"subset={keys!r}, keep='first', maintain_order=True", 2)
    w.line(f").join(seen.select({keys!r}), on={keys!r}, how='anti', nulls_equal=True,")
    w.line("maintain_order='left')", 2)
    w.line(f"outputs[{name!r}] = pl.concat(")
    w.line(f"[seen, frame.select({keys!r}).with_columns(pl.lit(now).alias('__seen_at'))],", 2)
    w.line("how='vertical_relaxed',", 2)
    w.line(")")


def _validate(w: _Writer, exprs: PolarsExprs, rules: tuple[ir.Rule, ...], has_row: bool) -> None:
    w.line("# validate: a rule whose answer is null fails")
    failing = {r.id: f"~({exprs.lower(r.passes)}).fill_null(False)" for r in rules}
    rejecting = sorted(
        (r for r in rules if r.action != "warn"), key=lambda r: (_STRENGTH[r.action], r.id)
    )
    counted = [r for r in rules if r.action in ("drop", "warn")]
    # A small integer per rejecting rule marks the rule a record failed: cheaper than text.
    codes = {rule.id: index for index, rule in enumerate(rejecting)}
    if rejecting:
        chain = "pl"
        for rule in rejecting:
            chain += f".when({failing[rule.id]}).then(pl.lit({codes[rule.id]}, dtype=pl.UInt16))"
        w.line(f"frame = frame.with_columns({chain}.otherwise(None).alias({RULE!r}))")
    if counted:
        # Dropped and warned records are only counted (a warned one is kept).
        items = [
            f"(pl.col({RULE!r}) == {codes[r.id]}).sum().alias({r.id!r})"
            if r.action == "drop"
            else f"{failing[r.id]}.sum().alias({r.id!r})"
            for r in counted
        ]
        w.block(
            "counts.append(frame.select(",
            items,
            ").unpivot(variable_name='rule', value_name='count'))",
        )
    kept = [r for r in rejecting if r.action != "drop"]
    if kept:
        _rejected(w, kept, codes, has_row)
    if rejecting:
        w.line(f"frame = frame.filter(pl.col({RULE!r}).is_null()).drop({RULE!r})")


def _rejected(w: _Writer, rules: list[ir.Rule], codes: dict[str, int], has_row: bool) -> None:
    """The dead-lettered (and batch-failing) records, with the rule and a reason."""

    def by_rule(values: dict[str, str]) -> str:
        chain = "pl"
        for rule_id, value in values.items():
            chain += f".when(pl.col({RULE!r}) == {codes[rule_id]}).then({value})"
        return chain

    # Before an aggregate the runtime keeps the raw input record, found by `__row`;
    # after one, the row the rule saw is the record.
    if has_row:
        row, record = f"pl.col({ROW!r})", "pl.lit(None, dtype=pl.String)"
    else:
        row = "pl.lit(None, dtype=pl.UInt32)"
        record = f"pl.struct(pl.all().exclude({ROW!r}, {RULE!r})).struct.json_encode()"
    ids = [codes[r.id] for r in rules]
    w.block(
        f"rejected.append(frame.filter(pl.col({RULE!r}).is_in({ids!r})).select(",
        [
            f"{row}.alias({ROW!r})",
            by_rule({r.id: f"pl.lit({r.text!r})" for r in rules}) + ".alias('rule')",
            by_rule({r.id: f"pl.lit({r.action!r})" for r in rules}) + ".alias('action')",
            by_rule({r.id: _reason(r) for r in rules}) + ".alias('reason')",
            f"{record}.alias('record')",
        ],
        "))",
    )


def _reason(rule: ir.Rule) -> str:
    """`temp_c between 0 and 60 failed (temp_c = 99.5)`, computed in Polars."""
    parts = [f"pl.lit({rule.text + ' failed' + (' (' if rule.fields else '')!r})"]
    for index, name in enumerate(rule.fields):
        prefix = ", " if index else ""
        parts.append(f"pl.lit({prefix + name + ' = '!r})")
        parts.append(f"pl.col({name!r}).cast(pl.String).fill_null('null')")
    if rule.fields:
        parts.append("pl.lit(')')")
    return "pl.concat_str([" + ", ".join(parts) + "])"


def _aggregate(
    w: _Writer, exprs: PolarsExprs, step: ir.Aggregate, index: int, schema: dict[str, t.Type]
) -> None:
    """Tumbling windows that span batches: the rows of the newest two windows are kept in
    `state`, so a window is aggregated over every row it has received so far, and each
    batch outputs the recomputed rows of the windows it touched. A record for an older
    window (closed) is late: counted, not aggregated, so it cannot overwrite a full row."""
    every = _unit(step.every)
    micros = step.every // dt.timedelta(microseconds=1)
    keys = ["bucket", *step.by]
    used = sorted({step.time, *step.by}.union(*(ir.columns_used(e) for _, e in step.aggregations)))
    row_schema = "{" + ", ".join(f"{c!r}: {dtype(schema[c])}" for c in used)
    row_schema += ", 'bucket': pl.Datetime('us', 'UTC')}"
    name = f"state:aggregate:{index}"
    items = [f"{_cast(exprs.lower(e), e.type)}.alias({n!r})" for n, e in step.aggregations]
    w.line(f"# aggregate every {every}: tumbling windows aligned to the epoch (UTC); the rows")
    w.line("# of the two newest windows are kept, so a window spanning batches is whole")
    w.line("rows = frame.select(")
    w.line(f"*{used!r}, pl.col({step.time!r}).dt.truncate({every!r}).alias('bucket')", 2)
    w.line(").with_columns(pl.lit(False).alias('__old'))")
    w.line(f"kept = _kept(state, {name!r}, {row_schema})")
    w.line("combined = pl.concat([kept, rows], how='vertical_relaxed').with_columns(")
    w.line(
        f"(pl.col('bucket').filter(pl.col('__old')).max() - dt.timedelta(microseconds={micros}))"
        ".alias('__cutoff')",
        2,
    )
    w.line(")")
    w.line("late = ~pl.col('__old') & (pl.col('bucket') < pl.col('__cutoff')).fill_null(False)")
    w.line(f"counts.append(combined.select(late.sum().alias('late:{index}'))")
    w.line(".unpivot(variable_name='rule', value_name='count'))", 2)
    w.line("combined = combined.filter(~late)")
    w.line(f"touched = combined.filter(~pl.col('__old')).select({keys!r}).unique()")
    w.line(f"outputs[{name!r}] = combined.filter(")
    w.line(f"pl.col('bucket') >= pl.col('bucket').max() - dt.timedelta(microseconds={micros})", 2)
    w.line(").drop('__old', '__cutoff')")
    w.line("frame = (")
    w.line(f"combined.join(touched, on={keys!r}, how='semi', nulls_equal=True)", 2)
    w.line(f".group_by({keys!r}, maintain_order=True)", 2)
    w.line(".agg(", 2)
    for item in items:
        w.line(f"{item},", 3)
    w.line(")", 2)
    w.line(f".sort({keys!r})", 2)
    w.line(f".with_row_index({ROW!r})", 2)
    w.line(")")


class PlanModule:
    """A plan module's source, executed: what `flowc run` and `flowc test` call."""

    def __init__(self, source: str, filename: str) -> None:
        self.source = source
        namespace: dict[str, object] = {"__name__": f"flowc_plan_{filename}"}
        exec(compile(source, filename, "exec"), namespace)  # flowc's own generated code
        self.namespace = namespace

    def plan(
        self,
        records: pl.LazyFrame,
        now: dt.datetime,
        state: dict[str, pl.DataFrame] | None = None,
    ) -> dict[str, pl.LazyFrame]:
        function = self.namespace["plan"]
        assert callable(function)
        result = function(records, now, state)
        assert isinstance(result, dict)
        return result

    @property
    def input_schema(self) -> dict[str, pl.DataType]:
        schema = self.namespace["INPUT_SCHEMA"]
        assert isinstance(schema, dict)
        return schema

    @property
    def rules(self) -> list[dict[str, str]]:
        rules = self.namespace["RULES"]
        assert isinstance(rules, list)
        return rules

    @property
    def output_schema(self) -> dict[str, pl.DataType]:
        schema = self.namespace["OUTPUT_SCHEMA"]
        assert isinstance(schema, dict)
        return schema
