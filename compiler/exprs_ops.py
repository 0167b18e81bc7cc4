"""Type rules of the operators (`+ ?? == between in matches ...`) and their error messages.

A mixin of `ExprChecker`, which provides `check` (the type of a sub-expression) and `sink`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flowc.compiler.scope import ERROR, Typed, is_error
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import DiagnosticSink

if TYPE_CHECKING:
    from flowc.compiler.exprs import Env

_COMPARABLE = {t.Kind.INT, t.Kind.FLOAT, t.Kind.STR, t.Kind.TIMESTAMP, t.Kind.DATE, t.Kind.DURATION}


class OperatorChecks:
    sink: DiagnosticSink

    def check(self, expr: ast.Expr, env: Env) -> Typed:
        raise NotImplementedError  # provided by ExprChecker

    # ---- operators ----

    def _unary(self, expr: ast.Unary, env: Env) -> Typed:
        operand = self.check(expr.operand, env)
        kind = operand.type.kind
        if expr.op == "not":
            if kind not in (t.Kind.BOOL, t.Kind.NULL):
                self._bad_operand(expr, "not", operand.type, "a bool")
                return Typed(t.BOOL)
            return Typed(t.BOOL.nullable_(operand.type.nullable), operand.null)
        if kind not in (t.Kind.INT, t.Kind.FLOAT, t.Kind.DURATION):
            self._bad_operand(expr, "-", operand.type, "a number or duration")
            return ERROR
        return operand

    def _binary(self, expr: ast.Binary, env: Env) -> Typed:
        left = self.check(expr.left, env)
        right = self.check(expr.right, env)
        op = expr.op
        if op == "??":
            return self._coalesce(expr, left, right)
        null = left.null or right.null
        nullable = left.type.nullable or right.type.nullable
        is_null_test = op in ("==", "!=") and t.Kind.NULL in (left.type.kind, right.type.kind)
        if is_null_test:
            return Typed(t.BOOL)
        if left.type.kind is t.Kind.JSON or right.type.kind is t.Kind.JSON:
            return self._json_operand(expr, left, right)
        if op in ("and", "or"):
            for side, node in ((left, expr.left), (right, expr.right)):
                if side.type.kind not in (t.Kind.BOOL, t.Kind.NULL):
                    self._bad_operand(node, op, side.type, "a bool")
            return Typed(t.BOOL.nullable_(nullable), null)
        if op in ("==", "!="):
            if t.common(left.type, right.type) is None:
                self._mismatch(expr, op, left.type, right.type)
            return Typed(t.BOOL.nullable_(nullable), null)
        if op in ("<", "<=", ">", ">="):
            common = t.common(left.type, right.type)
            if common is None or common.kind not in _COMPARABLE:
                self._mismatch(expr, op, left.type, right.type)
            return Typed(t.BOOL.nullable_(nullable), null)
        if op == "++":
            for side, node in ((left, expr.left), (right, expr.right)):
                if side.type.kind not in (t.Kind.STR, t.Kind.NULL):
                    self._bad_operand(
                        node, "++", side.type, "a str", help="convert it with `str(...)`"
                    )
            return Typed(t.STR.nullable_(nullable), null)
        result = _arithmetic(op, left.type, right.type)
        if result is None:
            self._mismatch(expr, op, left.type, right.type)
            return ERROR
        return Typed(result.nullable_(nullable), null)

    def _coalesce(self, expr: ast.Binary, left: Typed, right: Typed) -> Typed:
        common = t.common(left.type, right.type)
        if common is None:
            self._mismatch(expr, "??", left.type, right.type)
            return ERROR
        if right.type.may_be_null and right.type.kind is not t.Kind.JSON:
            return Typed(common.nullable_(), right.null)
        if right.type.kind is t.Kind.JSON:
            return Typed(t.JSON, right.null)
        return Typed(common.non_null())

    def _json_operand(self, expr: ast.Binary, left: Typed, right: Typed) -> Typed:
        if is_error(left.type) or is_error(right.type):
            return ERROR
        side = expr.left if left.type.kind is t.Kind.JSON else expr.right
        self.sink.error(
            "E210",
            f"`{expr.op}` cannot use a raw json value",
            side.span,
            "this is json",
            help="convert it first: `float(x)`, `int(x)`, `str(x)` or `parse_timestamp(x)`, "
            "or declare the source's `schema { }`",
        )
        if expr.op in ("and", "or", "==", "!=", "<", "<=", ">", ">="):
            return Typed(t.BOOL.nullable_())
        return ERROR

    def _between(self, expr: ast.Between, env: Env) -> Typed:
        value = self.check(expr.value, env)
        nullable = value.type.nullable
        null = value.null
        for bound in (expr.low, expr.high):
            b = self.check(bound, env)
            common = t.common(value.type, b.type)
            if value.type.kind is t.Kind.JSON:
                self._json_operand(ast.Binary("between", expr.value, bound, expr.span), value, b)
                break
            if common is None or common.kind not in _COMPARABLE:
                self._mismatch(expr, "between", value.type, b.type)
            nullable = nullable or b.type.nullable
            null = null or b.null
        return Typed(t.BOOL.nullable_(nullable), null)

    def _in(self, expr: ast.In, env: Env) -> Typed:
        value = self.check(expr.value, env)
        options = self.check(expr.options, env)
        if options.type.kind is not t.Kind.LIST:
            self._bad_operand(expr.options, "in", options.type, "a list")
            return Typed(t.BOOL)
        assert options.type.elem is not None
        if (
            options.type.elem.kind is not t.Kind.NULL
            and t.common(value.type, options.type.elem) is None
        ):
            self._mismatch(expr, "in", value.type, options.type)
        return Typed(t.BOOL.nullable_(value.type.nullable), value.null)

    def _matches(self, expr: ast.Matches, env: Env) -> Typed:
        value = self.check(expr.value, env)
        pattern = self.check(expr.pattern, env)
        if value.type.kind not in (t.Kind.STR, t.Kind.NULL):
            self._bad_operand(expr.value, "matches", value.type, "a str")
        if pattern.type.kind is not t.Kind.STR:
            self._bad_operand(expr.pattern, "matches", pattern.type, "a str pattern")
        elif isinstance(expr.pattern, ast.Literal) and isinstance(expr.pattern.value, str):
            try:
                re.compile(expr.pattern.value)
            except re.error as error:
                self.sink.error(
                    "E204",
                    f"invalid regular expression: {error}",
                    expr.pattern.span,
                    "not a valid pattern",
                    help="patterns use the syntax of Rust's regex crate (like Python's `re`, "
                    "without look-around or back-references)",
                )
        return Typed(t.BOOL.nullable_(value.type.nullable), value.null)

    # ---- errors ----

    def _bad_operand(
        self, node: ast.Expr, op: str, found: t.Type, wanted: str, help: str | None = None
    ) -> None:
        if is_error(found):
            return
        self.sink.error(
            "E210",
            f"`{op}` needs {wanted}, found {found}",
            node.span,
            f"this is {found}",
            help=help,
        )

    def _mismatch(self, expr: ast.Expr, op: str, left: t.Type, right: t.Type) -> None:
        if is_error(left) or is_error(right):
            return
        self.sink.error(
            "E210",
            f"`{op}` cannot combine {left} and {right}",
            expr.span,
            f"{left} {op} {right}",
            help=_operator_help(op),
        )

    def _not_bool(self, node: ast.Expr, found: t.Type, where: str) -> None:
        if is_error(found):
            return
        self.sink.error(
            "E205",
            f"the condition of {where} must be a bool, found {found}",
            node.span,
            f"this is {found}",
            help="compare it, for example `x > 0` or `x != null`",
        )

    def require_bool(self, node: ast.Expr, typed: Typed, where: str) -> None:
        if typed.type.kind not in (t.Kind.BOOL, t.Kind.NULL):
            self._not_bool(node, typed.type, where)


def article(noun: str) -> str:
    """`an int`, `a str`: the noun with its indefinite article."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _arithmetic(op: str, left: t.Type, right: t.Type) -> t.Type | None:
    lk, rk = left.kind, right.kind
    if lk is t.Kind.NULL:
        lk = rk
    if rk is t.Kind.NULL:
        rk = lk
    numeric = {t.Kind.INT, t.Kind.FLOAT}
    if lk in numeric and rk in numeric:
        if op == "/" or t.Kind.FLOAT in (lk, rk):
            return t.FLOAT
        return t.INT
    if op == "-" and lk is rk and lk in (t.Kind.TIMESTAMP, t.Kind.DATE):
        return t.DURATION
    if op in ("+", "-") and lk in (t.Kind.TIMESTAMP, t.Kind.DATE) and rk is t.Kind.DURATION:
        return t.Type(lk)
    if op == "+" and lk is t.Kind.DURATION and rk in (t.Kind.TIMESTAMP, t.Kind.DATE):
        return t.Type(rk)
    if op in ("+", "-") and lk is rk is t.Kind.DURATION:
        return t.DURATION
    if op in ("*", "/") and lk is t.Kind.DURATION and rk in numeric:
        return t.DURATION
    if op == "*" and lk in numeric and rk is t.Kind.DURATION:
        return t.DURATION
    return None


def _operator_help(op: str) -> str | None:
    if op in ("+", "-", "*", "/", "%"):
        return "arithmetic works on int and float, and on timestamps with durations"
    if op == "??":
        return "`a ?? b` needs a default `b` of the same type as `a`"
    if op in ("==", "!=", "<", "<=", ">", ">=", "between"):
        return "both sides must have the same type; convert one with int(), float() or str()"
    if op == "in":
        return "`x in [..]` needs a list of values of x's type"
    return None
