"""Expressions, types and literals as one line of canonical text.

The formatter's layout code (`flowc.dsl.fmt`) decides where lines break; everything
here renders a node flat. Parentheses are written only where the grammar's
precedence needs them, so `(a + b) * c` keeps its parentheses and `a + (b * c)`
loses them. The levels, loosest first, mirror `grammar/flow.lark`.
"""

from __future__ import annotations

import datetime as dt
import re

from flowc.dsl import ast
from flowc.dsl.builder import escape
from flowc.dsl.durations import UNITS_US

# Precedence levels, loosest first, as in the grammar: `if`, `or`, `and`, `not`,
# comparisons (non-associative), `??` (right-associative, tighter than comparisons:
# `a ?? 0 > 5` is `(a ?? 0) > 5`), `++`, `+ -`, `* / %`, unary `-`, postfix, atoms.
# A node at level L may stand where the grammar wants level M only if L >= M;
# otherwise it is parenthesised.
IF = 0
OR = 1
AND = 2
NOT = 3
COMPARE = 4  # also `between`, `in`, `matches`
COALESCE = 5
CONCAT = 6
SUM = 7
PRODUCT = 8
UNARY = 9
POSTFIX = 10
ATOM = 11

COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
BINARY_LEVELS: dict[str, int] = {
    "or": OR,
    "and": AND,
    **dict.fromkeys(COMPARISONS, COMPARE),
    "??": COALESCE,
    "++": CONCAT,
    "+": SUM,
    "-": SUM,
    "*": PRODUCT,
    "/": PRODUCT,
    "%": PRODUCT,
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def operand_levels(op: str) -> tuple[int, int]:
    """The levels a binary operator's left and right operands must have."""
    level = BINARY_LEVELS[op]
    if op == "??":  # right-associative: `a ?? b ?? c` is `a ?? (b ?? c)`
        return level + 1, level
    if level == COMPARE:  # non-associative: `a < b < c` is a syntax error
        return level + 1, level + 1
    return level, level + 1


def level(expr: ast.Expr) -> int:
    """How tightly `expr` binds when written without parentheses around it."""
    if isinstance(expr, ast.If):
        return IF
    if isinstance(expr, ast.Binary):
        return BINARY_LEVELS[expr.op]
    if isinstance(expr, ast.Between | ast.In | ast.Matches):
        return COMPARE
    if isinstance(expr, ast.Unary):
        return NOT if expr.op == "not" else UNARY
    if isinstance(expr, ast.FieldAccess | ast.Index):
        return POSTFIX
    if isinstance(expr, ast.Literal) and literal_text(expr).startswith("-"):
        # `-5` reads as unary minus: `(-5).x` must keep its parentheses.
        return UNARY
    return ATOM


def expr_text(expr: ast.Expr, min_level: int = IF) -> str:
    """`expr` on one line, parenthesised if it binds looser than `min_level`."""
    text = _render(expr)
    return f"({text})" if level(expr) < min_level else text


def _render(expr: ast.Expr) -> str:
    # Lists, not generators, below: deep nesting then costs Python frames only.
    if isinstance(expr, ast.Literal):
        return literal_text(expr)
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Call):
        return f"{expr.func.name}({_joined(expr.args)})"
    if isinstance(expr, ast.Unary):
        if expr.op == "not":
            return "not " + expr_text(expr.operand, NOT)
        return "-" + expr_text(expr.operand, UNARY)
    if isinstance(expr, ast.Binary):
        left, right = operand_levels(expr.op)
        return f"{expr_text(expr.left, left)} {expr.op} {expr_text(expr.right, right)}"
    if isinstance(expr, ast.Between):
        value, low = expr_text(expr.value, COMPARE + 1), expr_text(expr.low, COMPARE + 1)
        return f"{value} between {low} and {expr_text(expr.high, COMPARE + 1)}"
    if isinstance(expr, ast.In):
        return f"{expr_text(expr.value, COMPARE + 1)} in {expr_text(expr.options, COMPARE + 1)}"
    if isinstance(expr, ast.Matches):
        value, pattern = expr_text(expr.value, COMPARE + 1), expr_text(expr.pattern, COMPARE + 1)
        return f"{value} matches {pattern}"
    if isinstance(expr, ast.FieldAccess):
        return f"{expr_text(expr.value, POSTFIX)}.{expr.field.name}"
    if isinstance(expr, ast.Index):
        return f"{expr_text(expr.value, POSTFIX)}[{expr_text(expr.index)}]"
    if isinstance(expr, ast.If):
        condition, then = expr_text(expr.condition), expr_text(expr.then)
        return f"if {condition} then {then} else {expr_text(expr.otherwise)}"
    if isinstance(expr, ast.Match):
        arms = ", ".join([arm_text(arm) for arm in expr.arms])
        return f"match {expr_text(expr.value)} {{ {arms} }}"
    if isinstance(expr, ast.ListExpr):
        return f"[{_joined(expr.items)}]"
    if isinstance(expr, ast.TupleExpr):
        return f"({_joined(expr.items)})"
    if isinstance(expr, ast.RecordExpr):
        if not expr.fields:
            return "{}"
        return "{ " + ", ".join([field_text(f) for f in expr.fields]) + " }"
    raise TypeError(f"not an expression: {expr!r}")


def _joined(items: tuple[ast.Expr, ...]) -> str:
    return ", ".join([expr_text(item) for item in items])


def arm_text(arm: ast.MatchArm) -> str:
    """One `pattern => result` arm; `_` is the wildcard."""
    pattern = "_" if arm.pattern is None else literal_text(arm.pattern)
    return f"{pattern} => {expr_text(arm.result)}"


def field_name(field: ast.RecordField) -> str:
    """A record key: quoted when the user quoted it or when it is not a plain name."""
    if field.quoted or not _IDENT.fullmatch(field.name.name):
        return escape(field.name.name)
    return field.name.name


def field_prefix(field: ast.RecordField) -> str:
    """What comes before a record field's value: `key: `, or `key ` in block style."""
    if field.block_style and not field.quoted and isinstance(field.value, ast.RecordExpr):
        return f"{field.name.name} "  # the user wrote `key { ... }`
    return f"{field_name(field)}: "


def field_text(field: ast.RecordField) -> str:
    """One `key: value` (or `key { ... }`) record field."""
    return field_prefix(field) + expr_text(field.value)


# ---- literals ----------------------------------------------------------------


def literal_text(literal: ast.Literal) -> str:
    """The user's spelling when the parser kept one, else a spelling of the value."""
    if literal.text:
        if literal.kind in ("int", "float"):
            return _without_double_negation(literal.text)
        return literal.text
    return literal_from_value(literal)


def _without_double_negation(text: str) -> str:
    # The builder folds `--5` into the literal 5 spelt "--5"; write it as `5`.
    body = text.lstrip("-")
    minus = (len(text) - len(body)) % 2
    return "-" * minus + body


def literal_from_value(literal: ast.Literal) -> str:
    """A spelling of a literal built by code (no original text)."""
    value = literal.value
    kind = literal.kind
    if kind == "null" or value is None:
        return "null"
    if kind == "bool":
        return "true" if value else "false"
    if kind == "str":
        assert isinstance(value, str)
        return escape(value)
    if kind == "int":
        assert isinstance(value, int)
        return str(value)
    if kind == "float":
        assert isinstance(value, float | int)
        text = repr(float(value))
        if not text.lstrip("-")[:1].isdigit():
            raise ValueError(f"the float {text} has no literal in the language")
        return text
    if kind == "duration":
        assert isinstance(value, int)
        return duration_text(value)
    if kind == "timestamp":
        assert isinstance(value, dt.datetime)
        return timestamp_text(value)
    assert isinstance(value, dt.date)
    return "@" + value.isoformat()


def duration_text(microseconds: int) -> str:
    """A duration literal in the largest unit that divides it exactly."""
    if microseconds == 0:
        return "0s"
    for unit, size in UNITS_US:
        if microseconds > 0 and microseconds % size == 0:
            return f"{microseconds // size}{unit}"
    raise ValueError(f"a duration of {microseconds}µs has no literal in the language")


def timestamp_text(value: dt.datetime) -> str:
    """`@YYYY-MM-DDTHH:MM:SSZ` in UTC, with microseconds only when there are some."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return "@" + value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# ---- types ---------------------------------------------------------------------


def type_text(type_: ast.TypeExpr) -> str:
    """A type on one line: `list<int>?`, `{ a: int, b: str }`."""
    suffix = "?" if type_.nullable else ""
    if isinstance(type_, ast.NamedType):
        args = f"<{', '.join(type_text(a) for a in type_.args)}>" if type_.args else ""
        return f"{type_.name.name}{args}{suffix}"
    if not type_.fields:
        return "{}" + suffix
    return "{ " + ", ".join(field_decl_text(f) for f in type_.fields) + " }" + suffix


def field_decl_text(field: ast.FieldDecl) -> str:
    """One `name: type` field of a record type or schema."""
    return f"{field.name.name}: {type_text(field.type)}"
