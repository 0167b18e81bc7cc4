"""Hash functions: digests of text, and a fast integer hash for bucketing.

The digests are the standard algorithms, so their results match other systems; `hash`
is engine-specific and only stable within one engine and version.
"""

from flowc.stdlib.signature import Category, Example, Function, Nulls, Param

CATEGORY = Category(
    "hashing",
    "Hashing",
    "Digests of UTF-8 text as lower-case hex, equal to what other tools compute, and a "
    "64-bit `hash` for bucketing and sampling.",
)
_S = Param("s", "str", "the text to digest, as UTF-8")


def _digest(name: str, what: str, why: str, result: str) -> Function:
    """A standard digest; these differ only in the algorithm."""
    return Function(
        name=name,
        category="hashing",
        params=(_S,),
        returns="str",
        nulls=Nulls.PROPAGATE,
        doc=f"The {what} digest of a string as lower-case hex, {why}.",
        examples=(Example(f'{name}("abc")', f'"{result}"'),),
    )


FUNCTIONS: tuple[Function, ...] = (
    _digest(
        "md5",
        "MD5",
        "to match checksums other systems publish (not for security)",
        "900150983cd24fb0d6963f7d28e17f72",
    ),
    _digest(
        "sha1",
        "SHA-1",
        "to match checksums other systems publish (not for security)",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
    ),
    _digest(
        "sha256",
        "SHA-256",
        "for stable ids and pseudonymised keys",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    Function(
        name="hash",
        category="hashing",
        params=(Param("x", "any", "the value to hash"),),
        returns="int",
        nulls=Nulls.PROPAGATE,
        doc="A fast 64-bit hash of any value, for bucketing and sampling; it differs between "
        "engines and versions, so never store it (use `sha256` for that).",
        examples=(
            Example('hash("abc") == hash("abc")', "true"),
            Example('hash("abc") == hash("abd")', "false"),
        ),
    ),
)
