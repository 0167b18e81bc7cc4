"""Completion: what may be typed at the cursor, from the text around it and the checker.

The place is read from the text (`context`), which works on half-typed declarations; what
can go there comes from the latest check: the fields as they are after the previous step
(`PipelineInfo.after_step`, from the last version of the pipeline that parsed when the
current one does not), the stdlib, the declarations in scope and the connector models.
"""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

from lsprotocol import types as lsp

from flowc.compiler.lsp import describe
from flowc.compiler.lsp.analysis import Analysis, LastGood, check_variant
from flowc.compiler.lsp.context import STEP_KEYWORDS, Context, context_at
from flowc.compiler.pipelines import ACTIONS, PERSIST_KEYS
from flowc.compiler.scope import Record
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.parser import DECLARATION_KEYWORDS
from flowc.stdlib.connectors import SINKS, SOURCES
from flowc.stdlib.connectors.base import annotation_members
from flowc.stdlib.functions import REGISTRY

K = lsp.CompletionItemKind
_EXPRESSION_WORDS = ("if", "then", "else", "match", "and", "or", "not", "in", "between",
                     "matches", "true", "false", "null")  # fmt: skip
_STEP_SNIPPETS = {
    "map": "map {\n  $0\n}", "derive": "derive {\n  $0\n}", "where": "where $0",
    "select": "select $0", "drop": "drop $0", "rename": "rename { $1 -> $2 }",
    "validate": "validate {\n  $0\n}", "dedupe": "dedupe by $0",
    "aggregate": "aggregate every ${1:1h} by $2 {\n  $0\n}",
    "persist": "persist timescale ${1:table} { time: $2 }", "cache": "cache ${1:100}",
    "sink": "sink $0",
}  # fmt: skip
_TYPE_NAMES = (*t.SCALAR_NAMES, "list")


def complete(analysis: Analysis, memory: LastGood, position: lsp.Position) -> lsp.CompletionList:
    offset = analysis.positions().offset(position)
    ctx = context_at(analysis.text, offset)
    items = [] if ctx.in_string or ctx.in_comment else _items(analysis, memory, ctx)
    unique = {(i.label, i.kind): i for i in items}
    return lsp.CompletionList(is_incomplete=False, items=list(unique.values()))


def _items(analysis: Analysis, memory: LastGood, ctx: Context) -> list[lsp.CompletionItem]:
    item, braces = ctx.item, ctx.braces
    if re.search(r"[A-Za-z_]\w*\.\Z", item):
        return _members(analysis, memory, ctx)
    keyword = ctx.decl_keyword
    if keyword in ("fn", "const"):
        return _fn_or_const(analysis, ctx)
    if not braces:
        return _top_level(analysis, ctx)
    if keyword in ("source", "sink"):
        return _config(analysis, ctx, keyword)
    if keyword == "pipeline":
        return _pipeline(analysis, memory, ctx)
    if keyword == "type" and _after_colon(item):
        return _types(analysis)
    if keyword == "dashboard":
        return _dashboard(analysis, memory, ctx)
    if keyword == "test":
        return _test(analysis, ctx)
    return _expression(analysis, None)


# ---- top level -----------------------------------------------------------------------


def _top_level(analysis: Analysis, ctx: Context) -> list[lsp.CompletionItem]:
    item = ctx.item
    if not item:
        return [_keyword(k) for k in DECLARATION_KEYWORDS]
    if re.fullmatch(r"source\s+\w+\s*:", item):
        return [_kind(name, c.doc) for name, c in SOURCES.items()]
    if re.fullmatch(r"sink\s+\w+\s*:", item):
        return [_kind(name, c.doc) for name, c in SINKS.items()]
    if re.fullmatch(r"pipeline\s+\w+", item):
        return [_keyword("from")]
    if re.fullmatch(r"pipeline\s+\w+\s+from", item):
        return _declared(analysis, (ast.Source, ast.Pipeline))
    if re.fullmatch(r"pipeline\s+\w+\s+from\s+\w+\s*->", item):
        return _declared(analysis, (ast.TypeDecl,))
    return []


def _fn_or_const(analysis: Analysis, ctx: Context) -> list[lsp.CompletionItem]:
    """A type after `:` or `->` in the header, else the body: parameters, constants, calls."""
    so_far = ctx.so_far
    body = re.search(r"(?<![=!<>])=(?![=>])", so_far)
    if body is None:
        return _types(analysis) if re.search(r"(:|->)\s*(list<\s*)?\Z", so_far) else []
    params = re.findall(r"(\w+)\s*:\s*([^,)]+)", so_far[: body.start()].split(")")[0])
    found = [_variable(p, ty.strip()) for p, ty in params] if ctx.decl_keyword == "fn" else []
    return found + _expression(analysis, None)


# ---- sources and sinks -----------------------------------------------------------------


def _config(analysis: Analysis, ctx: Context, role: str) -> list[lsp.CompletionItem]:
    kind = re.match(r"\w+\s+\w+\s*:\s*(\w+)", ctx.header)
    path = tuple(_key(b.opener) for b in ctx.braces[1:] if b.opener)
    if path and path[0] == "schema":
        return _types(analysis) if _after_colon(ctx.item) else []
    if kind is None:
        return []
    value = re.fullmatch(r"(\w+)\s*:", ctx.item)
    if value is not None:
        field = describe.config_field(role, kind.group(1), (*path, value.group(1)))
        literals = _literal_values(field.annotation) if field is not None else []
        return [_value(v) for v in literals] + _declared(analysis, (ast.Const,))
    if ctx.item:
        return []
    model = describe.config_model(role, kind.group(1), path)
    if model is None:
        return []
    present = {m.group(1) for line in ctx.block_lines if (m := re.match(r"\s*(\w+)", line))}
    items = [
        _property(name, describe.config_key_doc(f"{role}:{kind.group(1)}", (*path, name)))
        for name in model.model_fields
        if name not in present
    ]
    connector = SOURCES.get(kind.group(1)) if role == "source" else None
    if not path and connector is not None and connector.accepts_schema:
        items.append(_keyword("schema"))
    return items


def _key(opener: str) -> str:
    return opener.rstrip(":").strip().split()[-1] if opener.strip() else ""


def _literal_values(annotation: Any) -> list[str]:
    values: list[str] = []
    for member in annotation_members(annotation):
        if get_origin(member) is not None and str(get_origin(member)).endswith("Literal"):
            values += [str(v) for v in get_args(member) if isinstance(v, str)]
    return values


# ---- pipelines -------------------------------------------------------------------------


def _pipeline(analysis: Analysis, memory: LastGood, ctx: Context) -> list[lsp.CompletionItem]:
    item, braces = ctx.item, ctx.braces
    record = _record(analysis, memory, ctx)
    if len(braces) == 1:
        if not item:
            return [_snippet(step, _STEP_SNIPPETS[step]) for step in STEP_KEYWORDS]
        step = item.split()[0]
        listing = item.endswith((",", "(")) or re.fullmatch(
            r"dedupe by|aggregate every \w+ by", item
        )
        if step in ("select", "drop") or (step in ("dedupe", "aggregate") and listing):
            return _fields(record)
        if re.fullmatch(r"dedupe by [\w(), ]*[\w)]", item):
            return [_keyword("within")]
        if re.fullmatch(r"aggregate every \w+", item):
            return [_keyword("by")]
        if item == "aggregate":
            return [_keyword("every")]
        if step == "persist":
            return [_keyword("timescale"), _keyword("off")] if item == "persist" else []
        if step == "sink":
            return _declared(analysis, (ast.Sink,))
        if step == "where":
            return _expression(analysis, record)
        return []
    block = braces[1].opener.split()[0] if braces[1].opener else ""
    if block == "validate" and len(braces) == 2 and not ctx.in_parens:
        if not item:
            rules = [_keyword("required"), _keyword("unique")]
            return rules + _expression(analysis, record)
        if item in ("required", "unique"):
            return _fields(record)
        if re.search(r"\belse\Z", item):
            return [_action(a) for a in ACTIONS]
    if block == "rename" and not item:
        return _fields(record)
    if block == "persist" and len(braces) == 2 and not ctx.in_parens:
        if not item:
            return [_property(k, describe.config_key_doc("persist", (k,))) for k in PERSIST_KEYS]
        if re.fullmatch(r"(time|key|indexes)\s*:", item):
            return _fields(record)
        return []
    if block in ("map", "derive", "aggregate") and not item and not ctx.in_parens:
        return []  # a new field's name: nothing to suggest
    return _expression(analysis, record, aggregate=block == "aggregate")


def _record(analysis: Analysis, memory: LastGood, ctx: Context) -> Record | None:
    """The fields in scope at the cursor: after the previous step, plus, in a `map` or
    `derive`, the assignments above the cursor.

    The pipeline is checked as it stands before the cursor (the rest cut off), so the steps
    typed so far count even when the whole does not parse yet; when even that does not
    parse, the last version that did stands in.
    """
    name = re.match(r"pipeline\s+(\w+)", ctx.header)
    if name is None:
        return None
    cut_braces = [b for b in ctx.braces if b.offset < ctx.cut]
    info = check_variant(analysis, ctx.truncated()).pipelines.get(name.group(1))
    if info is not None and info.file == analysis.file:
        if len(cut_braces) < 2:
            return info.output
        block = cut_braces[1].opener.split()[0] if cut_braces[1].opener else ""
        before = info.after_step[-2] if len(info.after_step) >= 2 else info.input
        if block == "derive":
            return info.output
        if block == "map":
            visible = before.copy()
            visible.fields.update(info.output.fields)
            return visible
        return before
    remembered = memory.pipelines.get(name.group(1))
    if remembered is None:
        return None
    info = remembered[1]
    index = min(ctx.steps_before, len(info.after_step))
    return info.after_step[index - 1] if index else info.input


# ---- dashboards and tests ---------------------------------------------------------------


def _dashboard(analysis: Analysis, memory: LastGood, ctx: Context) -> list[lsp.CompletionItem]:
    item, braces = ctx.item, ctx.braces
    if len(braces) == 1:
        if not item:
            settings = [_property(k, d) for k, d in describe.DASHBOARD_DOCS.items()]
            return [*settings, _keyword("chart"), _keyword("table")]
        if item == "chart":
            return [_kind(k, f"a {k} chart") for k in describe.CHART_KINDS]
        return []
    options = describe.CHART_DOCS if braces[1].opener.startswith("chart") else describe.TABLE_DOCS
    if not item:
        return [_property(k, d) for k, d in options.items()]
    if re.fullmatch(r"from\s*:", item):
        return _declared(analysis, (ast.Pipeline,))
    if re.fullmatch(r"(x|y|series|fields)\s*:", item) or ctx.in_parens:
        block = "\n".join(ctx.block_lines) + analysis.text[ctx.offset : ctx.offset + 200]
        source = re.search(r"\bfrom\s*:\s*(\w+)", block)
        info = analysis.result.pipelines.get(source.group(1)) if source else None
        if info is None and source is not None:
            remembered = memory.pipelines.get(source.group(1))
            info = remembered[1] if remembered else None
        return _fields(info.output if info else None)
    return []


def _test(analysis: Analysis, ctx: Context) -> list[lsp.CompletionItem]:
    if len(ctx.braces) == 1 and not ctx.item:
        return [_keyword("given"), _keyword("expect")]
    if ctx.item == "given":
        return _declared(analysis, (ast.Source, ast.Pipeline))
    if ctx.item == "expect":
        return _declared(analysis, (ast.Pipeline,))
    return []


# ---- expressions ----------------------------------------------------------------------


def _expression(
    analysis: Analysis, record: Record | None, aggregate: bool = False
) -> list[lsp.CompletionItem]:
    """Fields in scope, constants, functions (aggregates only where they may be used)."""
    items = _fields(record)
    items += _declared(analysis, (ast.Const,))
    items += _functions(analysis, aggregate)
    items += [_keyword(w) for w in _EXPRESSION_WORDS]
    return items


def _members(analysis: Analysis, memory: LastGood, ctx: Context) -> list[lsp.CompletionItem]:
    """`author.`: the fields of a struct-typed field."""
    name = re.search(r"([A-Za-z_]\w*)\.\Z", ctx.item)
    record = _record(analysis, memory, ctx) if ctx.decl_keyword == "pipeline" else None
    found = record.get(name.group(1)) if record is not None and name is not None else None
    if found is None or found.type.kind is not t.Kind.STRUCT:
        return []
    return [_variable(n, str(ty)) for n, ty in found.type.fields]


def _fields(record: Record | None) -> list[lsp.CompletionItem]:
    if record is None:
        return []
    return [
        lsp.CompletionItem(n, kind=K.Field, detail=str(f.type), sort_text=f"0{i:04}")
        for i, (n, f) in enumerate(record.fields.items())
    ]


def _functions(analysis: Analysis, aggregate: bool) -> list[lsp.CompletionItem]:
    items = [
        lsp.CompletionItem(
            name, kind=K.Function, detail=fn.signature, sort_text=f"2{name}",
            documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, describe.function_doc(fn)),
        )
        for name, fn in REGISTRY.items()
        if aggregate or not fn.aggregate
    ]  # fmt: skip
    symbols = analysis.result.symbols
    for name in symbols.names_of((ast.Fn,), analysis.file) if symbols else ():
        decl = symbols.by_name[name].decl if symbols else None
        if isinstance(decl, ast.Fn):
            detail = describe.user_fn_signature(decl, analysis.result, analysis.file)
            items.append(lsp.CompletionItem(name, kind=K.Function, detail=detail,
                                            sort_text=f"1{name}"))  # fmt: skip
    return items


def _declared(analysis: Analysis, kinds: tuple[type, ...]) -> list[lsp.CompletionItem]:
    symbols = analysis.result.symbols
    if symbols is None:
        return []
    kind_of = {ast.Const: K.Constant, ast.TypeDecl: K.Struct, ast.Source: K.Event,
               ast.Sink: K.Interface, ast.Pipeline: K.Class}  # fmt: skip
    items = []
    for name in symbols.names_of(kinds, analysis.file):
        decl = symbols.by_name[name].decl
        detail = describe.decl_doc(decl, analysis.result, analysis.file, "").split("\n")[1]
        items.append(lsp.CompletionItem(name, kind=kind_of.get(type(decl), K.Reference),
                                        detail=detail, sort_text=f"1{name}"))  # fmt: skip
    return items


def _types(analysis: Analysis) -> list[lsp.CompletionItem]:
    builtin = [
        lsp.CompletionItem(n, kind=K.TypeParameter, detail=describe.TYPE_DOCS.get(n))
        for n in _TYPE_NAMES
    ]
    return builtin + _declared(analysis, (ast.TypeDecl,))


def _after_colon(item: str) -> bool:
    return bool(re.search(r":\s*(list<\s*)?\Z", item))


def _keyword(word: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(word, kind=K.Keyword, sort_text=f"3{word}")


def _snippet(word: str, body: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(word, kind=K.Keyword, insert_text=body,
                              insert_text_format=lsp.InsertTextFormat.Snippet)  # fmt: skip


def _kind(name: str, doc: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(name, kind=K.Module, documentation=doc)


def _property(name: str, doc: str | None) -> lsp.CompletionItem:
    markup = lsp.MarkupContent(lsp.MarkupKind.Markdown, doc) if doc else None
    return lsp.CompletionItem(name, kind=K.Property, documentation=markup)


def _value(text: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(text, kind=K.EnumMember, insert_text=f'"{text}"')


def _variable(name: str, detail: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(name, kind=K.Variable, detail=detail)


def _action(name: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(name, kind=K.EnumMember, documentation=describe.ACTION_DOCS[name])
