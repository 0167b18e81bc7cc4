"""Hash functions: digests of text, and an integer hash for bucketing.

The digests are the standard algorithms, so their results match other systems. `hash`
is derived from the MD5 digest of the value's text, so that every back end gives the
same number (the engines' own fast hashes all differ, and change between versions).

Polars has no digest of its own: its lowerings use the `polars-hash` plugin (native
Rust, no Python per row), which must be installed and imported by the compiled plan;
without it they raise LoweringUnsupported. On PostgreSQL `sha1` needs the pgcrypto
extension.
"""

from collections.abc import Sequence
from importlib import import_module
from importlib.util import find_spec

import sqlglot.expressions as exp

from flowc.dsl.types import Kind
from flowc.stdlib.functions import _strings_lowering as lw
from flowc.stdlib.lowering import (
    LoweringUnsupported,
    PolarsArg,
    SqlArg,
    Target,
)
from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "hashing",
    "Hashing",
    "Digests of UTF-8 text as lower-case hex, equal to what other tools compute, and a "
    "non-negative integer `hash` for bucketing and sampling.",
)
_S = Param("s", "str", "the text to digest, as UTF-8")

_POLARS_DIGESTS = {"md5": "nchash.md5", "sha1": "nchash.sha1", "sha256": "chash.sha2_256"}
"""The `polars-hash` expressions (its `nchash` and `chash` namespaces), lower-case hex."""


def _polars_digest(algorithm: str, code: str, function: str) -> str:
    if find_spec("polars_hash") is None:
        raise LoweringUnsupported(
            f"`{function}` needs the polars-hash package for Polars, which has no digests of "
            "its own (the compiled plan must `import polars_hash`)"
        )
    import_module("polars_hash")  # registers its `chash` and `nchash` expression namespaces

    return f"{code}.{_POLARS_DIGESTS[algorithm]}()"


def _sql_digest(name: str, text: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "duckdb" or name == "md5":
        return lw.call(name, text)  # hex of the UTF-8 bytes
    data = lw.call("convert_to", text, lw.string("UTF8"))
    # PostgreSQL has sha256() built in; sha1 comes with pgcrypto's digest().
    digest = lw.call("digest", data, lw.string(name)) if name == "sha1" else lw.call(name, data)
    return lw.call("encode", digest, lw.string("hex"))


def _digest(name: str, what: str, why: str, result: str, empty: str) -> Function:
    """A standard digest; these differ only in the algorithm."""

    def polars(a: Sequence[PolarsArg], _: Target) -> str:
        return _polars_digest(name, a[0].code, name)

    def sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
        return _sql_digest(name, a[0].expr, target.dialect)

    return Function(
        name=name,
        category="hashing",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc=f"The {what} digest of a string as lower-case hex, {why}.",
        examples=(
            Example(f'{name}("abc")', f'"{result}"'),
            Example(f'{name}("")', f'"{empty}"'),
            Example(f"{name}(null)", "null"),
        ),
        polars=lw.polars(polars),
        sql=lw.sql(sql),
    )


_HASHABLE = (Kind.STR, Kind.INT, Kind.BOOL, Kind.DATE)
"""The types whose text every engine writes alike (`42`, `true`, `2026-01-31`)."""
_HEX_DIGITS = 15
"""60 bits of the digest: a non-negative BIGINT everywhere."""


def _hashable(kind: Kind) -> None:
    if kind not in _HASHABLE:
        raise LoweringUnsupported(
            f"`hash` takes str, int, bool or date values, not {kind.value}: convert it "
            "with `str(...)` first"
        )


def _hash_polars(a: Sequence[PolarsArg], _: Target) -> str:
    _hashable(a[0].type.kind)
    text = a[0].code if a[0].type.kind is Kind.STR else f"{a[0].code}.cast(pl.String)"
    digest = _polars_digest("md5", text, "hash")
    return f"{digest}.str.slice(0, {_HEX_DIGITS}).str.to_integer(base=16)"


def _hash_sql(a: Sequence[SqlArg], target: Target) -> exp.Expression:
    _hashable(a[0].type.kind)
    text = a[0].expr
    if a[0].type.kind is not Kind.STR:
        text = exp.cast(text, exp.DataType.build("TEXT"))
    start = lw.call("md5", text)
    prefix = exp.Substring(this=start, start=lw.number(1), length=lw.number(_HEX_DIGITS))
    if target.dialect == "duckdb":
        hex_number = exp.DPipe(this=lw.string("0x"), expression=prefix, safe=True)
        return exp.cast(hex_number, exp.DataType.build("BIGINT"))
    bits = exp.cast(
        exp.DPipe(this=lw.string("x"), expression=prefix, safe=True),
        exp.DataType.build(f"BIT({4 * _HEX_DIGITS})", dialect="postgres"),
    )
    return exp.cast(bits, exp.DataType.build("BIGINT"))


FUNCTIONS: tuple[Function, ...] = (
    _digest(
        "md5",
        "MD5",
        "to match checksums other systems publish (not for security)",
        "900150983cd24fb0d6963f7d28e17f72",
        "d41d8cd98f00b204e9800998ecf8427e",
    ),
    _digest(
        "sha1",
        "SHA-1",
        "to match checksums other systems publish (not for security)",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    ),
    _digest(
        "sha256",
        "SHA-256",
        "for stable ids and pseudonymised keys",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    Function(
        name="hash",
        category="hashing",
        params=(Param("x", "any", "the value to hash: a str, int, bool or date"),),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="A non-negative 60-bit hash for bucketing and sampling (`hash(id) % 10`): the "
        "first 15 hex digits of the MD5 of the value's text, the same in every back end, "
        'so `hash(42) == hash("42")`.',
        examples=(
            Example('hash("abc")', "648541476951500027"),
            Example('hash("abc") == hash("abd")', "false"),
            Example('hash(42) == hash("42")', "true"),
            Example('hash(true) == hash("true")', "true"),
            Example("hash(null)", "null"),
        ),
        polars=lw.polars(_hash_polars),
        sql=lw.sql(_hash_sql),
    ),
)
