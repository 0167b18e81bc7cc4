"""Duration literals (`90s`, `5m`, `1w`): the one table of their units.

The parser, the formatter, the Polars and SQL lowerings of `str(duration)` and the
webhook body reader all read and write the same literals, so they share this table
rather than each keeping a copy that could drift.
"""

from __future__ import annotations

import re

# Microseconds in each unit, largest first, so the first exact divisor is the unit a
# duration is written in (3600s is written 1h).
UNITS_US: tuple[tuple[str, int], ...] = (
    ("w", 7 * 86_400_000_000),
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
)
MICROS: dict[str, int] = dict(UNITS_US)
PATTERN = re.compile(r"([0-9]+)(ms|s|m|h|d|w)")


def duration_us(text: str) -> int:
    """Microseconds in a duration literal such as `5m`."""
    match = PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a duration: {text}")
    return int(match.group(1)) * MICROS[match.group(2)]
