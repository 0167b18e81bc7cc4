"""Type inference for expressions, with null tracking; goes on after an error.

An expression that has an error gets the type `json`, which fits anywhere, so one
mistake does not cause a cascade of follow-on errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flowc.compiler.exprs_ops import OperatorChecks, article
from flowc.compiler.scope import (
    ERROR,
    ERROR_TYPE,
    ExprTypes,
    FieldInfo,
    NullOrigin,
    Record,
    Typed,
    is_error,
)
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import DiagnosticSink
from flowc.dsl.span import Span
from flowc.dsl.suggest import closest, did_you_mean
from flowc.stdlib.functions import REGISTRY
from flowc.stdlib.signature import CallProblem, Function, resolve_call

__all__ = ["ERROR", "ERROR_TYPE", "Env", "ExprChecker", "FnSignature", "field_info", "is_error"]

_LITERAL_TYPES = {
    "int": t.INT,
    "float": t.FLOAT,
    "str": t.STR,
    "bool": t.BOOL,
    "null": t.NULL,
    "duration": t.DURATION,
    "timestamp": t.TIMESTAMP,
    "date": t.DATE,
}


@dataclass(frozen=True, slots=True)
class FnSignature:
    name: str
    params: tuple[tuple[str, t.Type], ...]
    result: t.Type
    span: Span


@dataclass
class Env:
    """What names mean where an expression is checked."""

    record: Record | None = None
    params: dict[str, t.Type] = field(default_factory=dict)
    aggregate: bool = False  # inside `aggregate { ... }`: aggregate functions allowed
    grouped: frozenset[str] = frozenset()  # fields usable bare inside an aggregate
    constant: bool = False  # a `const`: only literals and other constants


ConstLookup = Callable[[str], Typed | None]
FnLookup = Callable[[str], FnSignature | None]


class ExprChecker(OperatorChecks):
    """Infers types; reports through `sink`; records each expression's type for tooling."""

    def __init__(
        self,
        sink: DiagnosticSink,
        const_type: ConstLookup,
        fn_signature: FnLookup,
        const_names: Callable[[], list[str]],
        fn_names: Callable[[], list[str]],
        types: ExprTypes | None = None,
    ) -> None:
        self.sink = sink
        self.const_type = const_type
        self.fn_signature = fn_signature
        self.const_names = const_names
        self.fn_names = fn_names
        self.types = types if types is not None else ExprTypes()
        self._inside_aggregate_call = False
        # Names of declarations that failed to parse: already reported, never again.
        self.silenced: frozenset[str] = frozenset()
        # A note for unknown names in a file whose import failed: they may live there.
        self.import_note: str | None = None
        # Names offered as "did you mean": a misspelt reference still counts as a use.
        self.suggested: set[str] = set()

    def _suggest(self, name: str, candidates: list[str]) -> str | None:
        match = closest(name, candidates)
        if match is None:
            return None
        self.suggested.add(match)
        return f"did you mean `{match}`?"

    def check(self, expr: ast.Expr, env: Env) -> Typed:
        result = self._check(expr, env)
        self.types.record(expr, expr.span, result.type)
        return result

    # ---- dispatch ----

    def _check(self, expr: ast.Expr, env: Env) -> Typed:
        match expr:
            case ast.Literal():
                return self._literal(expr)
            case ast.Name():
                return self._name(expr, env)
            case ast.Call():
                return self._call(expr, env)
            case ast.Unary():
                return self._unary(expr, env)
            case ast.Binary():
                return self._binary(expr, env)
            case ast.Between():
                return self._between(expr, env)
            case ast.In():
                return self._in(expr, env)
            case ast.Matches():
                return self._matches(expr, env)
            case ast.FieldAccess():
                return self._field_access(expr, env)
            case ast.Index():
                return self._index(expr, env)
            case ast.If():
                return self._if(expr, env)
            case ast.Match():
                return self._match(expr, env)
            case ast.ListExpr():
                return self._list(expr, env)
            case ast.TupleExpr():
                self.sink.error(
                    "E210",
                    "a tuple is not a value",
                    expr.span,
                    "tuples only list key columns",
                    help="use a list `[a, b]` or a record `{ a: a, b: b }` for a value",
                )
                return ERROR
            case ast.RecordExpr():
                fields = {f.name.name: self.check(f.value, env).type for f in expr.fields}
                return Typed(t.struct(fields))
        raise AssertionError(f"unhandled expression {type(expr).__name__}")

    # ---- leaves ----

    def _literal(self, expr: ast.Literal) -> Typed:
        type_ = _LITERAL_TYPES[expr.kind]
        if expr.kind == "null":
            return Typed(type_, NullOrigin(expr.span, "the literal `null`"))
        return Typed(type_)

    def _name(self, expr: ast.Name, env: Env) -> Typed:
        name = expr.name
        if name in env.params:
            return Typed(env.params[name], _param_null(expr, env.params[name]))
        if env.record is not None and not env.constant:
            info = env.record.get(name)
            if info is not None:
                self._check_grouped(expr, env)
                return info.typed
        const = self.const_type(name)
        if const is not None:
            return const
        if env.record is not None and env.record.unknown:
            return ERROR
        if env.record is not None and env.record.open and not env.constant:
            self._check_grouped(expr, env)
            return Typed(t.JSON, NullOrigin(expr.span, f"`{name}` is read from raw json"))
        if name in self.silenced:
            return ERROR
        self._unknown_name(expr, env)
        return ERROR

    def _check_grouped(self, expr: ast.Name, env: Env) -> None:
        if env.aggregate and not self._inside_aggregate_call and expr.name not in env.grouped:
            self.sink.error(
                "E207",
                f"`{expr.name}` is neither grouped nor aggregated",
                expr.span,
                "one value per window is needed here",
                help=f"wrap it in an aggregate such as `last({expr.name})`, or add it to `by`",
            )

    def _unknown_name(self, expr: ast.Name, env: Env) -> None:
        candidates = list(env.params) + self.const_names()
        in_record = env.record is not None and not env.constant
        if in_record:
            assert env.record is not None
            candidates += list(env.record.fields)
            code, what, label = "E104", "field", f"not a field of {env.record.description}"
        elif env.constant:
            code, what, label = "E101", "constant", "not a constant"
        else:
            code, what, label = "E101", "name", "not a parameter or constant"
        self.sink.error(
            code,
            f"unknown {what} `{expr.name}`",
            expr.span,
            label,
            help=self._suggest(expr.name, candidates),
            notes=(self.import_note,) if self.import_note else (),
        )

    # ---- calls ----

    def _call(self, expr: ast.Call, env: Env) -> Typed:
        name = expr.func.name
        if name == "env":
            self.sink.error(
                "E103",
                "`env()` reads configuration, not record values",
                expr.func.span,
                "only allowed in source and sink settings",
                help="secrets stay out of the data: read them in a `source` or `sink` block",
            )
            return ERROR
        user = self.fn_signature(name)
        if user is not None:
            return self._user_call(expr, user, env)
        function = REGISTRY.get(name)
        if function is None:
            self.sink.error(
                "E103",
                f"unknown function `{name}`",
                expr.func.span,
                "no function of this name",
                help=self._suggest(name, list(REGISTRY) + self.fn_names())
                or "see docs/stdlib.md for the functions",
            )
            for arg in expr.args:
                self.check(arg, env)
            return ERROR
        if function.aggregate:
            return self._aggregate_call(expr, env)
        if env.constant and name == "now":
            self.sink.error(
                "E209",
                "`now()` is not a constant",
                expr.span,
                "evaluated at run time",
                help="constants are evaluated when the program is compiled",
            )
            return Typed(t.TIMESTAMP)
        args = [self.check(arg, env) for arg in expr.args]
        result = resolve_call(function, [a.type for a in args])
        self._call_problems(expr, function, args, result.problems)
        type_ = result.type
        if type_.nullable:
            origin = next((a.null for a in args if a.null is not None), None)
            if function.nulls.name == "FALLIBLE" or origin is None:
                origin = NullOrigin(expr.span, f"`{name}` can fail and give null")
            return Typed(type_, origin)
        return Typed(type_)

    def _aggregate_call(self, expr: ast.Call, env: Env) -> Typed:
        name = expr.func.name
        function = REGISTRY[name]
        if not env.aggregate:
            self.sink.error(
                "E206",
                f"`{name}` is an aggregate",
                expr.func.span,
                "only allowed inside `aggregate { ... }`",
                help="aggregate functions combine the records of a time window: "
                "use them in an `aggregate every 1h { ... }` step",
            )
        if self._inside_aggregate_call:
            self.sink.error(
                "E206",
                f"`{name}` is nested inside another aggregate",
                expr.func.span,
                "aggregates cannot be nested",
            )
        self._inside_aggregate_call = True
        try:
            args = [self.check(arg, env) for arg in expr.args]
        finally:
            self._inside_aggregate_call = False
        result = resolve_call(function, [a.type for a in args])
        self._call_problems(expr, function, args, result.problems)
        origin = next((a.null for a in args if a.null is not None), None)
        return Typed(result.type, origin if result.type.nullable else None)

    def _call_problems(
        self,
        expr: ast.Call,
        function: Function,
        args: list[Typed],
        problems: tuple[CallProblem, ...],
    ) -> None:
        for problem in problems:
            if problem.arg is not None and problem.arg < len(args):
                if is_error(args[problem.arg].type):
                    continue
                span = expr.args[problem.arg].span
                label = f"this is {args[problem.arg].type}"
            else:
                span, label = expr.span, ""
            self.sink.error(problem.code, problem.message, span, label, help=function.signature)

    def _user_call(self, expr: ast.Call, fn: FnSignature, env: Env) -> Typed:
        args = [self.check(arg, env) for arg in expr.args]
        if len(args) != len(fn.params):
            self.sink.error(
                "E203",
                f"`{fn.name}` takes {len(fn.params)} argument"
                f"{'s' if len(fn.params) != 1 else ''}, found {len(args)}",
                expr.span,
                "",
                help=_user_signature(fn),
            )
        for arg, node, (pname, ptype) in zip(args, expr.args, fn.params, strict=False):
            if not t.assignable(arg.type, ptype) or (
                arg.type.kind is t.Kind.JSON and ptype.kind is not t.Kind.JSON
            ):
                self.sink.error(
                    "E204",
                    f"`{fn.name}` expects `{pname}` to be {ptype.non_null()}, "
                    f"found {arg.type.non_null()}",
                    node.span,
                    f"this is {arg.type}",
                    help=_user_signature(fn),
                )
        # A user function is inlined, so null flows through it like through an operator.
        nullable = [a for a in args if a.type.may_be_null and not is_error(a.type)]
        if nullable:
            origin = nullable[0].null or NullOrigin(expr.span, "an argument may be null")
            return Typed(fn.result.nullable_(), origin)
        if fn.result.nullable:
            return Typed(fn.result, NullOrigin(expr.span, f"`{fn.name}` may return null"))
        return Typed(fn.result)

    # ---- access ----

    def _field_access(self, expr: ast.FieldAccess, env: Env) -> Typed:
        value = self.check(expr.value, env)
        type_ = value.type
        if type_.kind is t.Kind.JSON:
            return Typed(t.JSON, value.null or NullOrigin(expr.span, "json fields may be missing"))
        if type_.kind is not t.Kind.STRUCT:
            self._bad_operand(expr.value, ".", type_, "a record")
            return ERROR
        field_type = type_.field(expr.field.name)
        if field_type is None:
            self.sink.error(
                "E104",
                f"unknown field `{expr.field.name}`",
                expr.field.span,
                f"not a field of {type_.non_null()}",
                help=did_you_mean(expr.field.name, [n for n, _ in type_.fields]),
            )
            return ERROR
        if type_.nullable:
            return Typed(field_type.nullable_(), value.null)
        null = NullOrigin(expr.span, f"field `{expr.field.name}` is declared nullable")
        return Typed(field_type, null if field_type.nullable else None)

    def _index(self, expr: ast.Index, env: Env) -> Typed:
        value = self.check(expr.value, env)
        index = self.check(expr.index, env)
        if value.type.kind is t.Kind.JSON:
            return Typed(t.JSON, NullOrigin(expr.span, "json elements may be missing"))
        if value.type.kind is not t.Kind.LIST:
            self._bad_operand(expr.value, "[]", value.type, "a list")
            return ERROR
        if index.type.kind is not t.Kind.INT:
            self._bad_operand(expr.index, "[]", index.type, "an int index")
        assert value.type.elem is not None
        return Typed(
            value.type.elem.nullable_(), NullOrigin(expr.span, "the index may be out of range")
        )

    # ---- conditionals and collections ----

    def _if(self, expr: ast.If, env: Env) -> Typed:
        condition = self.check(expr.condition, env)
        if condition.type.kind not in (t.Kind.BOOL, t.Kind.NULL):
            self._not_bool(expr.condition, condition.type, "`if`")
        then = self.check(expr.then, env)
        otherwise = self.check(expr.otherwise, env)
        common = t.common(then.type, otherwise.type)
        if common is None:
            self.sink.error(
                "E211",
                f"`if` branches have different types: {then.type} and {otherwise.type}",
                expr.otherwise.span,
                f"this is {otherwise.type}",
                help="both branches must give the same type (int and float mix as float)",
            )
            return then
        return Typed(common, then.null or otherwise.null if common.nullable else None)

    def _match(self, expr: ast.Match, env: Env) -> Typed:
        value = self.check(expr.value, env)
        result: Typed | None = None
        has_wildcard = False
        for arm in expr.arms:
            if arm.pattern is None:
                has_wildcard = True
            else:
                pattern = self._literal(arm.pattern)
                if (
                    t.common(value.type, pattern.type) is None
                    and value.type.kind is not t.Kind.JSON
                ):
                    self.sink.error(
                        "E212",
                        f"a {pattern.type} pattern cannot match {article(str(value.type))}",
                        arm.pattern.span,
                        "",
                    )
            arm_type = self.check(arm.result, env)
            if result is None:
                result = arm_type
                continue
            common = t.common(result.type, arm_type.type)
            if common is None:
                self.sink.error(
                    "E211",
                    f"`match` arms have different types: {result.type} and {arm_type.type}",
                    arm.result.span,
                    f"this is {arm_type.type}",
                )
                continue
            result = Typed(common, result.null or arm_type.null)
        assert result is not None  # the grammar requires an arm
        if not has_wildcard:
            return result.nullable(NullOrigin(expr.span, "no arm matches every value (add `_ =>`)"))
        return result

    def _list(self, expr: ast.ListExpr, env: Env) -> Typed:
        elem: t.Type | None = None
        for item in expr.items:
            typed = self.check(item, env)
            if elem is None:
                elem = typed.type
                continue
            common = t.common(elem, typed.type)
            if common is None:
                self.sink.error(
                    "E201",
                    f"list items have different types: {elem} and {typed.type}",
                    item.span,
                    f"this is {typed.type}",
                )
                continue
            elem = common
        return Typed(t.list_of(elem if elem is not None else t.NULL))


def _param_null(expr: ast.Name, type_: t.Type) -> NullOrigin | None:
    if type_.nullable:
        return NullOrigin(expr.span, f"parameter `{expr.name}` is declared nullable")
    return None


def _user_signature(fn: FnSignature) -> str:
    params = ", ".join(f"{n}: {ty}" for n, ty in fn.params)
    return f"fn {fn.name}({params}) -> {fn.result}"


def field_info(name: str, typed: Typed, span: Span) -> FieldInfo:
    """A field produced by an expression, keeping why it may be null."""
    return FieldInfo(name, typed.type, span, typed.null if typed.type.may_be_null else None)
