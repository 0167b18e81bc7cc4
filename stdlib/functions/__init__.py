"""The stdlib functions, one module per category; each function is declared once.

A module declares its functions in a `FUNCTIONS` tuple and its `CATEGORY` (the docs
section); being in a module's tuple is what makes a function exist. `REGISTRY` collects
them all, and importing this package fails on a duplicate name or an unknown category,
so a broken declaration cannot ship.
"""

from flowc.stdlib.functions import (
    aggregates,
    conversions,
    hashing,
    json,
    nulls,
    numbers,
    strings,
    time,
    urls,
)
from flowc.stdlib.signature import Category, Function, build_registry

_MODULES = (strings, numbers, conversions, time, json, hashing, urls, nulls, aggregates)

CATEGORIES: tuple[Category, ...] = (
    strings.CATEGORY,
    numbers.CATEGORY,
    conversions.CATEGORY,
    time.CATEGORY,
    json.CATEGORY,
    hashing.CATEGORY,
    urls.CATEGORY,
    nulls.CATEGORY,
    nulls.LISTS,
    aggregates.CATEGORY,
)
"""Every category, in the order of the docs."""

REGISTRY: dict[str, Function] = build_registry(
    CATEGORIES, (fn for module in _MODULES for fn in module.FUNCTIONS)
)
"""Every stdlib function by name."""


def lookup(name: str) -> Function | None:
    """The function called `name`, or None (the checker then suggests a near name)."""
    return REGISTRY.get(name)


__all__ = ["CATEGORIES", "REGISTRY", "lookup"]
