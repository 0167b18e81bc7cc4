"""Shared pieces of the string, hashing and URL lowerings.

The string functions must mean the same in Polars (Rust `regex`, Rust case mapping) and
in SQL (DuckDB with RE2, PostgreSQL with its own regular expressions), so this module
holds what makes them agree: null handling for arguments typed `null`, the whitespace
set, the full upper-case mapping, a translator from the RE2 syntax that Flow documents
to each engine's dialect, and percent-encoding built from native operations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot.expressions as exp

from flowc.dsl.types import Kind, Type
from flowc.stdlib.lowering import (
    LoweringUnsupported,
    PolarsArg,
    PolarsLowering,
    SqlArg,
    SqlLowering,
    Target,
)

# ---- nulls and argument helpers ----


def _polars_dtype(t: Type) -> str:
    if t.kind is Kind.LIST:
        assert t.elem is not None
        return f"pl.List({_polars_dtype(t.elem)})"
    return {Kind.STR: "pl.String", Kind.INT: "pl.Int64", Kind.BOOL: "pl.Boolean"}[t.kind]


def _sql_type(t: Type) -> exp.DataType:
    if t.kind is Kind.LIST:
        assert t.elem is not None
        return exp.DataType(
            this=exp.DataType.Type.ARRAY, expressions=[_sql_type(t.elem)], nested=True
        )
    return exp.DataType.build({Kind.STR: "TEXT", Kind.INT: "BIGINT", Kind.BOOL: "BOOLEAN"}[t.kind])


def polars(build: PolarsLowering) -> PolarsLowering:
    """A Polars lowering whose result is null when an argument is the literal `null`.

    Polars' string operations reject a column of dtype Null, and every function here
    gives null for a null argument, so such a call is simply a typed null.
    """

    def lower(args: Sequence[PolarsArg], target: Target) -> str:
        if any(a.type.kind is Kind.NULL for a in args):
            return f"pl.lit(None, dtype={_polars_dtype(target.result)})"
        return build(args, target)

    return lower


def sql(build: SqlLowering) -> SqlLowering:
    """A SQL lowering whose result is null when an argument is the literal `null`."""

    def lower(args: Sequence[SqlArg], target: Target) -> exp.Expression:
        if any(a.type.kind is Kind.NULL for a in args):
            return exp.cast(exp.null(), _sql_type(target.result))
        return build(args, target)

    return lower


def py_str(value: str) -> str:
    """A Python string literal, raw when that reads better (regular expressions)."""
    if "\\" in value and not value.endswith("\\") and value.isprintable():
        for quote in ('"', "'"):
            if quote not in value:
                return f"r{quote}{value}{quote}"
    return repr(value)


def polars_value(arg: PolarsArg) -> str:
    """A string argument as Polars takes it: a plain literal when constant, else its code."""
    return py_str(arg.literal) if isinstance(arg.literal, str) else arg.code


def literal_str(arg: PolarsArg | SqlArg, function: str, param: str) -> str:
    """The text of an argument that must be a literal string."""
    if not isinstance(arg.literal, str):
        raise LoweringUnsupported(f"`{function}` needs `{param}` as a literal string")
    return arg.literal


def literal_int(arg: PolarsArg | SqlArg, function: str, param: str) -> int:
    """The value of an argument that must be a literal integer."""
    if not isinstance(arg.literal, int) or isinstance(arg.literal, bool):
        raise LoweringUnsupported(f"`{function}` needs `{param}` as a literal integer")
    return arg.literal


def polars_count(arg: PolarsArg) -> str:
    """An int argument with negative values counted as 0 (null stays null)."""
    if isinstance(arg.literal, int):
        return str(max(arg.literal, 0))
    return f"{arg.code}.clip(lower_bound=0)"


def sql_count(arg: SqlArg) -> exp.Expression:
    """An int argument with negative values counted as 0 (null stays null: no GREATEST,
    which skips nulls in both DuckDB and PostgreSQL)."""
    if isinstance(arg.literal, int):
        return exp.Literal.number(max(arg.literal, 0))
    clipped = (
        exp.Case()
        .when(exp.LT(this=arg.expr, expression=exp.Literal.number(0)), exp.Literal.number(0))
        .else_(arg.expr.copy())
    )
    return sql_int(clipped)


def sql_int(value: exp.Expression) -> exp.Expression:
    """An INTEGER, as LPAD, REPEAT and (in PostgreSQL) SUBSTRING want, not a BIGINT."""
    return exp.cast(value, exp.DataType.build("INT"))


def call(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call sqlglot does not model (or would rename), as written."""
    return exp.Anonymous(this=name, expressions=list(args))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int) -> exp.Expression:
    return exp.Literal.number(value)


# ---- text ----

WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode's White_Space characters: what Rust's `trim` removes, given to SQL explicitly
(DuckDB's and PostgreSQL's `trim` remove only spaces by default)."""

_MULTI_UPPER = (
    "\u00df\u0149\u01f0\u0390\u03b0\u0587\u1e96\u1e97\u1e98\u1e99\u1e9a\u1f50\u1f52\u1f54"
    "\u1f56\u1f80\u1f81\u1f82\u1f83\u1f84\u1f85\u1f86\u1f87\u1f88\u1f89\u1f8a\u1f8b\u1f8c"
    "\u1f8d\u1f8e\u1f8f\u1f90\u1f91\u1f92\u1f93\u1f94\u1f95\u1f96\u1f97\u1f98\u1f99\u1f9a"
    "\u1f9b\u1f9c\u1f9d\u1f9e\u1f9f\u1fa0\u1fa1\u1fa2\u1fa3\u1fa4\u1fa5\u1fa6\u1fa7\u1fa8"
    "\u1fa9\u1faa\u1fab\u1fac\u1fad\u1fae\u1faf\u1fb2\u1fb3\u1fb4\u1fb6\u1fb7\u1fbc\u1fc2"
    "\u1fc3\u1fc4\u1fc6\u1fc7\u1fcc\u1fd2\u1fd3\u1fd6\u1fd7\u1fe2\u1fe3\u1fe4\u1fe6\u1fe7"
    "\u1ff2\u1ff3\u1ff4\u1ff6\u1ff7\u1ffc\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06\ufb13"
    "\ufb14\ufb15\ufb16\ufb17"
)
FULL_UPPER: tuple[tuple[str, str], ...] = tuple((c, c.upper()) for c in _MULTI_UPPER)
"""The letters whose capital is several letters (Unicode SpecialCasing: `ß` -> `SS`).
Polars upper-cases them so; SQL's UPPER keeps them (PostgreSQL) or maps `ß` to `ẞ`
(DuckDB), so the SQL lowering replaces them first."""


# ---- regular expressions ----

_PERL = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
"""RE2's `\\d`, `\\w`, `\\s` are ASCII; Rust's and PostgreSQL's are Unicode-aware, so the
classes are spelled out for them."""

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\u0001-\\u007f",
    "blank": "\\t ",
    "cntrl": "\\u0001-\\u001f\\u007f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
"""RE2's (ASCII) POSIX classes, for PostgreSQL, whose classes follow the locale."""

_W = "[0-9A-Za-z_]"
_PG_BOUNDARY = {
    "b": f"(?:(?<!{_W})(?={_W})|(?<={_W})(?!{_W}))",
    "B": f"(?:(?<!{_W})(?!{_W})|(?<={_W})(?={_W}))",
}
"""RE2's ASCII word boundaries, in PostgreSQL's lookaround."""

_SIMPLE_ESCAPES = set("nrtfva")
_REPEAT = re.compile(r"\{[0-9]+(,[0-9]*)?\}")
_META = set("\\.+*?()|[]{}^$#&-~")


def regex_escape(text: str) -> str:
    """Text matched literally, in a syntax all three engines read alike."""
    return "".join("\\" + c if c in _META else c for c in text)


class _Unsupported(Exception):
    """A construct one engine cannot express; turned into LoweringUnsupported."""


@dataclass(frozen=True)
class Regex:
    """A pattern in RE2 syntax (Flow's documented dialect), translated per engine.

    `groups` is the number of capturing groups. `rust` is for Polars, `re2` for DuckDB,
    `postgres` for PostgreSQL's AREs; each raises LoweringUnsupported for a construct
    that engine lacks (lookaround and backreferences are in none of them).
    """

    pattern: str
    function: str

    @property
    def groups(self) -> int:
        return self._translate("re2")[1]

    @property
    def rust(self) -> str:
        return self._translate("rust")[0]

    @property
    def re2(self) -> str:
        self._translate("re2")  # validates
        return self.pattern

    @property
    def postgres(self) -> str:
        return self._translate("postgres")[0]

    def for_dialect(self, dialect: str) -> str:
        return self.re2 if dialect == "duckdb" else self.postgres

    def _translate(self, target: str) -> tuple[str, int]:
        if target != "re2":
            self._translate("re2")  # not RE2 at all: say so, naming no engine
        try:
            return _Translator(self.pattern, target).run()
        except _Unsupported as error:
            where = "" if target == "re2" else f" for {_ENGINES[target]}"
            raise LoweringUnsupported(
                f"`{self.function}`: regular expression {self.pattern!r}{where}: {error}"
            ) from None


_ENGINES = {"rust": "Polars", "postgres": "PostgreSQL", "re2": "RE2"}


class _Translator:
    """One pass over an RE2 pattern, writing it for `target` (rust, re2 or postgres)."""

    def __init__(self, pattern: str, target: str) -> None:
        self.p = pattern
        self.target = target
        self.i = 0
        self.out: list[str] = []
        self.groups = 0
        self.dot_all = False

    def run(self) -> tuple[str, int]:
        if self.target == "postgres":
            self._postgres_flags()
        while self.i < len(self.p):
            c = self.p[self.i]
            self.i += 1
            if c == "\\":
                self.out.append(self._escape())
            elif c == "[":
                self.out.append(self._class())
            elif c == "(":
                self.out.append(self._group())
            elif c == "." and self.target == "postgres" and not self.dot_all:
                self.out.append("[^\\n]")  # PostgreSQL's `.` matches a newline
            elif c == "{":
                self.out.append(self._brace())
            elif c == "}" and self.target != "re2":
                self.out.append("\\}")
            else:
                self.out.append(c)
        return "".join(self.out), self.groups

    def _postgres_flags(self) -> None:
        """Leading `(?ims)`: PostgreSQL takes options only there, under other names."""
        match = re.match(r"\(\?([a-zA-Z]+)\)", self.p)
        if not match:
            return
        options = ""
        for flag in match.group(1):
            if flag == "i":
                options += "i"
            elif flag == "m":
                options += "w"  # ^ and $ at line ends, `.` still crossing newlines
            elif flag == "s":
                self.dot_all = True
            else:
                raise _Unsupported(f"the flag `{flag}` has no PostgreSQL equivalent")
        self.out.append(f"(?{options})" if options else "")
        self.i = match.end()

    def _next(self, what: str) -> str:
        if self.i >= len(self.p):
            raise _Unsupported(f"it ends inside {what}")
        c = self.p[self.i]
        self.i += 1
        return c

    def _escape(self, in_class: bool = False) -> str:
        c = self._next("an escape")
        if c in _PERL or c.lower() in _PERL:
            return self._perl_class(c, in_class)
        if c in "pP":
            name = c
            if self.i < len(self.p) and self.p[self.i] == "{":
                end = self.p.find("}", self.i)
                if end < 0:
                    raise _Unsupported("`\\p{` is not closed")
                name += self.p[self.i : end + 1]
                self.i = end + 1
            else:
                name += self._next("`\\p`")
            if self.target == "postgres":
                raise _Unsupported("Unicode classes (`\\p`) are not available")
            return "\\" + name
        if c == "x":
            return self._hex_escape()
        if c == "Q":
            end = self.p.find("\\E", self.i)
            text = self.p[self.i : end if end >= 0 else len(self.p)]
            self.i = len(self.p) if end < 0 else end + 2
            if self.target == "re2":
                return "\\Q" + text + ("\\E" if end >= 0 else "")
            return regex_escape(text)
        if not in_class and c in "bB":
            if self.target == "rust":
                return f"(?-u:\\{c})"  # RE2's word boundary is ASCII
            if self.target == "postgres":
                return _PG_BOUNDARY[c]  # PostgreSQL's \\y counts letters beyond ASCII
            return "\\" + c
        if not in_class and c in "Az":
            return "\\Z" if c == "z" and self.target == "postgres" else "\\" + c
        if c in _SIMPLE_ESCAPES:
            return "\\" + c
        if c in "<>" and self.target == "rust":
            return c  # Rust reads `\<` and `\>` as word boundaries
        if c.isascii() and not c.isalnum():
            return "\\" + c
        raise _Unsupported(f"`\\{c}` is not an escape RE2 knows (backreferences are not)")

    def _perl_class(self, c: str, in_class: bool) -> str:
        if self.target == "re2":
            return "\\" + c
        chars = _PERL[c.lower()]
        if c.islower():
            return chars if in_class else f"[{chars}]"
        if in_class and self.target == "postgres":
            raise _Unsupported(f"`\\{c}` inside brackets is not available")
        return f"[^{chars}]"  # Rust nests classes, so this works inside one too

    def _hex_escape(self) -> str:
        if self.i < len(self.p) and self.p[self.i] == "{":
            end = self.p.find("}", self.i)
            if end < 0:
                raise _Unsupported("`\\x{` is not closed")
            digits = self.p[self.i + 1 : end]
            self.i = end + 1
        else:
            digits = self.p[self.i : self.i + 2]
            self.i += 2
        if not digits or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise _Unsupported("`\\x` needs hex digits")
        if self.target == "postgres":
            return f"\\U{int(digits, 16):08x}"
        return f"\\x{{{digits}}}"

    def _class(self) -> str:
        out = "["
        if self.i < len(self.p) and self.p[self.i] == "^":
            out += "^"
            self.i += 1
        first = True
        while True:
            c = self._next("a character class")
            if c == "]" and not first:
                return out + "]"
            first = False
            if c == "[" and self.i < len(self.p) and self.p[self.i] == ":":
                out += self._posix()
            elif c == "\\":
                out += self._escape(in_class=True)
            elif c in "[]" or (c in "&~" and self.target == "rust"):
                out += "\\" + c if self.target != "re2" else c
            elif c == "-" and self.i < len(self.p) and self.p[self.i] == "-":
                raise _Unsupported("`--` inside brackets reads differently in Polars")
            else:
                out += c

    def _posix(self) -> str:
        end = self.p.find(":]", self.i)
        if end < 0:
            raise _Unsupported("`[:` is not closed")
        name = self.p[self.i + 1 : end]
        self.i = end + 2
        negated = name.startswith("^")
        if name.lstrip("^") not in _POSIX:
            raise _Unsupported(f"`[:{name}:]` is not a class RE2 knows")
        if self.target != "postgres":
            return f"[:{name}:]"
        if negated:
            raise _Unsupported(f"`[:{name}:]` is not available")
        return _POSIX[name]

    def _group(self) -> str:
        if self.i >= len(self.p) or self.p[self.i] != "?":
            self.groups += 1
            return "("
        rest = self.p[self.i + 1 :]
        if rest.startswith(":"):
            self.i += 2
            return "(?:"
        named = re.match(r"P<([A-Za-z_][A-Za-z0-9_]*)>", rest)  # RE2 lacks `(?<name>`
        if named:
            self.groups += 1
            self.i += 1 + named.end()
            return "(" if self.target == "postgres" else f"(?P<{named.group(1)}>"
        flags = re.match(r"([imsU]*(?:-[imsU]+)?)([:)])", rest)
        if flags and flags.group(1):
            if self.target == "postgres":
                raise _Unsupported("PostgreSQL takes flags only as `(?ims)` at the start")
            self.i += 1 + flags.end()
            return f"(?{flags.group(1)}{flags.group(2)}"
        if rest[:1] in ("=", "!") or rest[:2] in ("<=", "<!"):
            raise _Unsupported("lookaround is not available")
        raise _Unsupported("this `(?` group is not RE2 syntax")

    def _brace(self) -> str:
        match = _REPEAT.match(self.p, self.i - 1)
        if match:
            self.i = match.end()
            return match.group(0)
        return "{" if self.target == "re2" else "\\{"  # RE2 reads a lone `{` literally


def replacement(text: str, groups: int, function: str, target: str) -> str:
    """Flow's replacement text (`$1` a group, `$0` the match, `$$` a dollar) per engine:
    `${1}` for Polars, `\\1` for RE2 and PostgreSQL (where `\\&` is the match)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        following = text[i + 1] if i + 1 < len(text) else ""
        if c == "$" and following.isascii() and following.isdigit():
            group = int(following)
            if group > groups:
                raise LoweringUnsupported(
                    f"`{function}`: the replacement uses `${group}` but the pattern has "
                    f"{groups} group{'' if groups == 1 else 's'}"
                )
            if target == "rust":
                out.append(f"${{{group}}}")
            elif target == "postgres" and group == 0:
                out.append("\\&")
            else:
                out.append(f"\\{group}")
            i += 2
            continue
        if c == "$":
            out.append("$$" if target == "rust" else "$")
            i += 2 if following == "$" else 1
            continue
        out.append("\\\\" if c == "\\" and target != "rust" else c)
        i += 1
    return "".join(out)


def polars_extract(s: str, pattern: str, group: int) -> str:
    """The group of the first match, "" when the group took no part, null for no match."""
    if group == 0:
        return f"{s}.str.extract({py_str(pattern)}, 0)"
    extract = f"{s}.str.extract({py_str(pattern)}, {group})"
    return f'pl.when({s}.str.contains({py_str(pattern)})).then({extract}.fill_null(""))'


def sql_extract(
    s: exp.Expression, regex: Regex | exp.Expression, group: int, dialect: str
) -> exp.Expression:
    """The group of the first match, '' when the group took no part, NULL for no match.

    `regex` is a literal pattern, or an expression giving one at run time (which is
    then used as is: it must mean the same in RE2 and PostgreSQL).
    """
    # (parenthesised: PostgreSQL's `~` binds as tightly as `||`)
    pattern = string(regex.for_dialect(dialect)) if isinstance(regex, Regex) else exp.paren(regex)
    matches = exp.RegexpLike(this=s, expression=pattern)
    if dialect == "duckdb":
        value: exp.Expression = call("regexp_extract", s.copy(), pattern.copy(), number(group))
        return exp.Case().when(matches, value)
    # regexp_match gives the groups; one more around the whole pattern gives $0.
    if isinstance(regex, Regex):
        translated = regex.postgres
        flags = re.match(r"\(\?[a-z]+\)", translated)
        cut = flags.end() if flags else 0
        wrapped: exp.Expression = string(translated[:cut] + "(" + translated[cut:] + ")")
    else:
        wrapped = exp.DPipe(
            this=exp.DPipe(this=string("("), expression=regex.copy(), safe=True),
            expression=string(")"),
            safe=True,
        )
    found = exp.Bracket(
        this=exp.paren(call("regexp_match", s.copy(), wrapped)),
        expressions=[number(group + 1)],
        offset=1,  # the index is as written (PostgreSQL arrays count from 1)
    )
    return exp.Case().when(matches, exp.Coalesce(this=found, expressions=[string("")]))


def sql_regex_escape(name: exp.Expression, dialect: str) -> exp.Expression:
    """Text made into a pattern that matches it literally, at run time."""
    if dialect == "duckdb":
        return call("regexp_escape", name)
    return call(
        "regexp_replace", name, string("([!-/:-@\\[-`{-~])"), string("\\\\\\1"), string("g")
    )


# ---- percent-encoding ----

_T = "[89ab][0-9a-f]"
UTF8_HEX = (
    "^(?:0[1-9a-f]|[1-7][0-9a-f]|(?:c[2-9a-f]|d[0-9a-f])" + _T
    + "|e0[ab][0-9a-f]" + _T + "|e[1-9a-cef]" + _T * 2 + "|ed[89][0-9a-f]" + _T
    + "|f0[9ab][0-9a-f]" + _T * 2 + "|f[1-3]" + _T * 3 + "|f48[0-9a-f]" + _T * 2 + ")*$"
)  # fmt: skip
"""Lower-case hex of valid UTF-8 without NUL (RFC 3629), checked before decoding it."""

_UNRESERVED = "^[0-9A-Za-z._~-]$"
_ESCAPE = "^[0-9A-Fa-f]{2}"


def polars_url_encode(s: str) -> str:
    """Each character kept when unreserved, else its UTF-8 bytes as `%XX`."""
    char = "pl.element()"
    encoded = f'{char}.str.encode("hex").str.to_uppercase().str.replace_all("(..)", "%${{1}}")'
    return (
        f'{s}.str.split("").list.eval(pl.when({char}.str.contains({_UNRESERVED!r}))'
        f'.then({char}).otherwise({encoded})).list.join("")'
    )


def sql_url_encode(s: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb":
        return call("url_encode", s)  # the same unreserved set, upper-case hex
    char = exp.column("_c")
    hex_bytes = call("encode", call("convert_to", char, string("UTF8")), string("hex"))
    percent = call("regexp_replace", hex_bytes, string("(..)"), string("%\\1"), string("g"))
    piece = (
        exp.Case()
        .when(exp.RegexpLike(this=char.copy(), expression=string(_UNRESERVED)), char.copy())
        .else_(exp.Upper(this=percent))
    )
    chars = call("regexp_split_to_array", s, string(""))
    return exp.Subquery(this=_joined_pieces(piece, chars, "_c"))


def _joined_pieces(piece: exp.Expression, array: exp.Expression, name: str) -> exp.Select:
    """SELECT string_agg(piece, '' ORDER BY _i) FROM unnest(array) WITH ORDINALITY AS ...(name, _i)

    A correlated subquery, the way to loop over the pieces of a string in SQL without
    lambdas (PostgreSQL has none); an empty array gives NULL.
    """
    ordered = exp.Order(this=piece, expressions=[exp.Ordered(this=exp.column("_i"))])
    # The ordinality column is the Unnest's offset, listed after the alias' columns.
    alias = exp.TableAlias(this=exp.to_identifier("_pieces"), columns=[exp.to_identifier(name)])
    pieces = exp.Unnest(expressions=[array], alias=alias, offset=exp.to_identifier("_i"))
    return exp.select(exp.GroupConcat(this=ordered, separator=string(""))).from_(pieces)


def polars_url_decode(s: str) -> str:
    """`+` as a space, `%XX` as a byte, a stray `%` kept; null unless valid UTF-8.

    The text is rebuilt as hex of its bytes, piece by piece between `%`s, checked
    against UTF8_HEX and only then decoded (Polars raises on invalid UTF-8).
    """
    piece = "pl.element()"
    escaped = (
        f"pl.concat_str([{piece}.str.slice(0, 2).str.to_lowercase(), "
        f'{piece}.str.slice(2).str.encode("hex")])'
    )
    stray = f'pl.concat_str([pl.lit("25"), {piece}.str.encode("hex")])'
    piece_hex = (
        f'pl.when(pl.int_range(pl.len()) == 0).then({piece}.str.encode("hex"))'
        f".when({piece}.str.contains({_ESCAPE!r})).then({escaped}).otherwise({stray})"
    )
    return (
        f'{s}.str.replace_all("+", " ", literal=True).str.split("%")'
        f'.list.eval({piece_hex}).list.join("")'
        f'.str.extract({UTF8_HEX!r}, 0).str.decode("hex").cast(pl.String)'
    )


def sql_url_decode(s: exp.Expression, dialect: str) -> exp.Expression:
    """As polars_url_decode: hex of the bytes per piece, joined, checked, decoded."""
    duckdb = dialect == "duckdb"

    def hex_of(value: exp.Expression) -> exp.Expression:
        if duckdb:
            return exp.Lower(this=call("hex", value))
        return call("encode", call("convert_to", value, string("UTF8")), string("hex"))

    piece = exp.column("_p")
    escaped = exp.DPipe(
        this=exp.Lower(this=exp.Substring(this=piece.copy(), start=number(1), length=number(2))),
        expression=hex_of(exp.Substring(this=piece.copy(), start=number(3))),
        safe=True,
    )
    stray = exp.DPipe(this=string("25"), expression=hex_of(piece.copy()), safe=True)
    piece_hex = (
        exp.Case()
        .when(exp.EQ(this=exp.column("_i"), expression=number(1)), hex_of(piece.copy()))
        .when(exp.RegexpLike(this=piece.copy(), expression=string(_ESCAPE)), escaped)
        .else_(stray)
    )
    text = call("replace", s, string("+"), string(" "))
    if duckdb:
        pieces: exp.Expression = exp.Split(this=text, expression=string("%"))
    else:
        pieces = call("regexp_split_to_array", text, string("%"))
    hexed = _joined_pieces(piece_hex, pieces, "_p")
    hexed.set("expressions", [exp.alias_(hexed.expressions[0], "_h")])
    h = exp.column("_h")
    if duckdb:
        decoded: exp.Expression = call("decode", call("unhex", h.copy()))
    else:
        decoded = call("convert_from", call("decode", h.copy(), string("hex")), string("UTF8"))
    check = exp.Case().when(exp.RegexpLike(this=h, expression=string(UTF8_HEX)), decoded)
    return exp.Subquery(this=exp.select(check).from_(hexed.subquery("_hexed")))
