"""Stdlib function declarations, and how a call is checked against one.

A stdlib function is one `Function` value holding everything about it: its parameters
with their docs, the return type, how null flows through it, a doc line and examples.
The checker asks `resolve_call` for the type of a call, docs/stdlib.md is generated from
the same values (`flowc.stdlib.docgen`), and the back ends will add their lowerings as
further fields, so that adding a function stays a single change (the VRL habit).

Parameter and return types are type specs as written in Flow (`"list<str>?"`, parsed by
`flowc.dsl.types.parse_spec`), plus three type variables:

- `T`: any type but json, bound by the first argument that uses it; later uses must fit
  with it, and `int` with `float` unify to `float`.
- `num`: `int` or `float`; as a return type it is `float` when any `num` argument is a
  `float`, else `int`.
- `any`: anything, json included, with no binding.

Nullability is not part of a parameter's spec: any argument may be nullable, and the
result's nullability follows the function's `Nulls` rule. A `?` on a return spec makes
the result nullable whatever the rule says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from flowc.dsl.types import (
    FLOAT,
    INT,
    NULL,
    Kind,
    Type,
    assignable,
    common,
    list_of,
    parse_spec,
)
from flowc.stdlib.lowering import PolarsLowering, SqlLowering

VARIABLES: frozenset[str] = frozenset({"T", "num", "any"})


class DeclarationError(ValueError):
    """A stdlib declaration is malformed; raised at import, so it can never ship."""


class Nulls(Enum):
    """How null flows from a call's arguments to its result type."""

    PROPAGATE = "propagate"
    """The result is nullable iff any argument is (most functions)."""
    FALLIBLE = "fallible"
    """The result is always nullable: the call can fail at run time (`int(x)`)."""
    NEVER = "never"
    """The result is never null (`is_null`, `count`)."""
    SKIP = "skip"
    """Null arguments are skipped: nullable only if every argument is (`coalesce`, `least`)."""


@dataclass(frozen=True)
class Category:
    """A section of the stdlib: functions are grouped by it in the docs."""

    name: str
    title: str
    doc: str


@dataclass(frozen=True)
class Param:
    """One parameter. `type` is a spec; an optional parameter may be left out."""

    name: str
    type: str
    doc: str
    optional: bool = False


@dataclass(frozen=True)
class Example:
    """A call in Flow source text and the Flow literal it evaluates to.

    An aggregate's example reads a column `x`; `column` holds its values as a Flow list
    literal (`"[1, null, 3]"`), one per record of the group.
    """

    call: str
    result: str
    column: str | None = None


@dataclass(frozen=True, kw_only=True)
class Function:
    """The declaration of one stdlib function; `variadic` means the last parameter repeats.

    A variadic parameter that is also optional may be given zero times, else at least once.
    """

    name: str
    category: str
    params: tuple[Param, ...]
    returns: str
    nulls: Nulls
    doc: str
    examples: tuple[Example, ...]
    aggregate: bool = False
    variadic: bool = False
    polars: PolarsLowering | None = field(default=None, repr=False, compare=False)
    """The Polars lowering: argument sources to expression source (see `stdlib.lowering`)."""
    sql: SqlLowering | None = field(default=None, repr=False, compare=False)
    """The SQL lowering: argument sqlglot expressions to a sqlglot expression."""
    min_args: int = field(init=False, repr=False, compare=False)
    max_args: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = list(_declaration_problems(self))
        if problems:
            raise DeclarationError(f"stdlib function `{self.name}`: " + "; ".join(problems))
        required = sum(not p.optional for p in self.params)
        object.__setattr__(self, "min_args", required)
        object.__setattr__(self, "max_args", None if self.variadic else len(self.params))

    def param_at(self, index: int) -> Param | None:
        """The parameter that the argument at `index` is matched against, if any."""
        if index < len(self.params):
            return self.params[index]
        if self.variadic and self.params:
            return self.params[-1]
        return None

    @property
    def signature(self) -> str:
        """The signature as shown to users: `round(x: num[, digits: int]) -> float`."""
        text = ""
        for index, param in enumerate(self.params):
            piece = f"{param.name}: {param.type}"
            if self.variadic and index == len(self.params) - 1:
                piece += "..."
            separator = ", " if index else ""
            text += f"[{separator}{piece}]" if param.optional else separator + piece
        return f"{self.name}({text}) -> {self.returns}"


def _declaration_problems(fn: Function) -> Iterator[str]:
    """What is wrong with a declaration, checked when it is made."""
    if not fn.name.isidentifier():
        yield f"{fn.name!r} is not a valid name"
    names = [p.name for p in fn.params]
    if len(set(names)) != len(names):
        yield "parameter names repeat"
    seen_optional = False
    param_variables: set[str] = set()
    for param in fn.params:
        if seen_optional and not param.optional:
            yield f"required parameter `{param.name}` follows an optional one"
        seen_optional = seen_optional or param.optional
        try:
            param_variables |= variables_in(spec_type(param.type))
        except ValueError as error:
            yield f"parameter `{param.name}`: {error}"
    if fn.variadic and not fn.params:
        yield "variadic without parameters"
    if fn.nulls is Nulls.SKIP and not fn.params:
        yield "Nulls.SKIP without parameters"
    try:
        returned = variables_in(spec_type(fn.returns))
    except ValueError as error:
        yield f"return type: {error}"
        return
    if "any" in returned:
        yield "`any` cannot be returned (say which type, or use T)"
    for unbound in sorted(returned - param_variables - {"any"}):
        yield f"return type uses `{unbound}`, which no parameter binds"


@cache
def spec_type(spec: str) -> Type:
    """The type a spec denotes, type variables kept as placeholders (parsed once)."""
    return parse_spec(spec, VARIABLES)


def variable(t: Type) -> str | None:
    """The type variable that `t` is a placeholder for, or None for a concrete type."""
    if t.kind is Kind.STRUCT and not t.fields and t.name in VARIABLES:
        return t.name
    return None


def variables_in(t: Type) -> set[str]:
    """Every type variable that occurs in `t`."""
    name = variable(t)
    if name is not None:
        return {name}
    found: set[str] = set()
    if t.elem is not None:
        found |= variables_in(t.elem)
    for _, field_type in t.fields:
        found |= variables_in(field_type)
    return found


def build_registry(
    categories: Iterable[Category], functions: Iterable[Function]
) -> dict[str, Function]:
    """Functions by name; a duplicate name or an unknown category raises at import."""
    known = {c.name for c in categories}
    registry: dict[str, Function] = {}
    for fn in functions:
        if fn.name in registry:
            raise DeclarationError(f"stdlib function `{fn.name}` is declared twice")
        if fn.category not in known:
            raise DeclarationError(f"stdlib function `{fn.name}`: unknown category {fn.category!r}")
        registry[fn.name] = fn
    return registry


# ---- call resolution ----


@dataclass(frozen=True)
class CallProblem:
    """Why a call does not fit its function: E203 (argument count) or E204 (a type).

    `arg` is the index of the offending argument, or None when none is to blame
    (too few arguments).
    """

    code: str
    message: str
    arg: int | None


@dataclass(frozen=True)
class CallResult:
    """The call's type, usable even when there are problems, so checking can go on."""

    type: Type
    problems: tuple[CallProblem, ...]


def resolve_call(fn: Function, args: Sequence[Type]) -> CallResult:
    """Check a call's argument types against `fn` and infer the type of its result."""
    problems: list[CallProblem] = []
    count = _count_problem(fn, len(args))
    if count is not None:
        problems.append(count)
    binder = _Binder()
    for index, arg in enumerate(args):
        param = fn.param_at(index)
        if param is None:
            break
        wanted = spec_type(param.type)
        if not binder.fits(wanted, arg, f"`{param.name}`"):
            message = binder.mismatch(fn.name, param.name, wanted, arg)
            problems.append(CallProblem("E204", message, index))
            binder.guess(wanted, arg)
    return CallResult(binder.result(fn, args), tuple(problems))


def _count_problem(fn: Function, count: int) -> CallProblem | None:
    low, high = fn.min_args, fn.max_args
    if count >= low and (high is None or count <= high):
        return None
    if high is None:
        wanted = f"at least {_arguments(low)}"
    elif low == high:
        wanted = _arguments(low) if low else "no arguments"
    elif high == low + 1:
        wanted = f"{low} or {high} arguments"
    else:
        wanted = f"{low} to {high} arguments"
    names = ", ".join(p.name for p in fn.params) + ("..." if fn.variadic else "")
    listed = f" ({names})" if names else ""
    blamed = high if high is not None and count > high else None
    return CallProblem("E203", f"`{fn.name}` takes {wanted}{listed}, found {count}", blamed)


def _arguments(count: int) -> str:
    return f"{count} argument" + ("" if count == 1 else "s")


_CONVERSIONS = {
    Kind.INT: "`int(...)`",
    Kind.FLOAT: "`float(...)`",
    Kind.STR: "`str(...)`",
    Kind.BOOL: "`bool(...)`",
    Kind.TIMESTAMP: "`parse_timestamp(str(...))`",
    Kind.DATE: "`parse_date(str(...))`",
}
_ANY_CONVERSION = "`int(...)`, `float(...)`, `str(...)` or `bool(...)`"


@dataclass
class _Binder:
    """The type variables of one call, bound as its arguments are matched in order."""

    t: Type | None = None
    t_origin: str = ""  # which argument bound T, for messages
    t_guess: Type | None = None  # T's stand-in when no argument could bind it
    float_seen: bool = False  # for a `num` return type

    def fits(self, wanted: Type, arg: Type, origin: str) -> bool:
        """Whether `arg` may be passed for `wanted`, binding variables on the way."""
        if arg.kind is Kind.NULL:
            return True
        name = variable(wanted)
        if name == "any":
            return True
        if name == "num":
            self.float_seen = self.float_seen or arg.kind is Kind.FLOAT
            return arg.is_numeric
        if name == "T":
            return self._bind(arg, origin)
        if wanted.kind is Kind.LIST and arg.kind is Kind.LIST:
            assert wanted.elem is not None
            assert arg.elem is not None
            return self.fits(wanted.elem, arg.elem, f"the items of {origin}")
        if arg.kind is Kind.JSON and wanted.kind is not Kind.JSON:
            return False  # json must be converted explicitly, so failures are visible
        return variables_in(wanted) == set() and assignable(arg, wanted)

    def _bind(self, arg: Type, origin: str) -> bool:
        if arg.kind is Kind.JSON:
            return False
        if self.t is None:
            self.t, self.t_origin = arg.non_null(), origin
            return True
        unified = common(self.t, arg.non_null())
        if unified is None:
            return False
        self.t = unified.non_null()
        return True

    def guess(self, wanted: Type, arg: Type) -> None:
        """After a mismatch, let a T nobody bound stand for the offending argument."""
        if variable(wanted) == "T" and self.t is None and self.t_guess is None:
            self.t_guess = arg.non_null()

    def describe(self, wanted: Type) -> str:
        """`wanted` in words, with the variables bound so far."""
        name = variable(wanted)
        if name == "num":
            return "int or float"
        if name == "any":
            return "any value"
        if name == "T":
            return str(self.t) if self.t is not None else "a value of a known type"
        if wanted.kind is Kind.LIST and wanted.elem is not None:
            inner = variable(wanted.elem)
            if inner == "any" or (inner == "T" and self.t is None):
                return "a list"
            return f"list<{self.describe(wanted.elem)}>"
        return str(wanted.non_null())

    def mismatch(self, fn: str, param: str, wanted: Type, arg: Type) -> str:
        """The message for an argument that does not fit, naming both types."""
        message = f"`{fn}` expects `{param}` to be {self.describe(wanted)}"
        bound_elsewhere = self.t is not None and self.t_origin not in (
            f"`{param}`",
            f"the items of `{param}`",
        )
        if bound_elsewhere and "T" in variables_in(wanted):
            message += f" (the type of {self.t_origin})"
        message += f", found {arg}"
        conversion = self._conversion(wanted) if arg.kind is Kind.JSON else None
        if conversion is not None:
            message += f": convert the json value first with {conversion}"
        return message

    def _conversion(self, wanted: Type) -> str | None:
        """How to turn json into `wanted`, or None when no function does."""
        name = variable(wanted)
        if name == "num":
            return "`float(...)` or `int(...)`"
        if name == "T":
            return _ANY_CONVERSION if self.t is None else _CONVERSIONS.get(self.t.kind)
        return _CONVERSIONS.get(wanted.kind)

    def substitute(self, t: Type) -> Type:
        """`t` with its variables replaced by what the arguments bound them to."""
        name = variable(t)
        if name == "num":
            result = FLOAT if self.float_seen else INT
        elif name == "T":
            result = self.t or self.t_guess or NULL
        elif t.kind is Kind.LIST and t.elem is not None:
            return list_of(self.substitute(t.elem), t.nullable)
        else:
            return t
        return result.nullable_() if t.nullable else result

    def result(self, fn: Function, args: Sequence[Type]) -> Type:
        returns = spec_type(fn.returns)
        nullable = returns.nullable or _nullable(fn.nulls, args)
        return self.substitute(returns).nullable_(nullable)


def _nullable(nulls: Nulls, args: Sequence[Type]) -> bool:
    # `may_be_null` counts json too: a json value can always hold null.
    if nulls is Nulls.PROPAGATE:
        return any(a.may_be_null for a in args)
    if nulls is Nulls.SKIP:
        return bool(args) and all(a.may_be_null for a in args)
    return nulls is Nulls.FALLIBLE
