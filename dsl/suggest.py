"""'Did you mean' suggestions for unknown names and keys."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo most likely meant, or None when nothing is close enough.

    Small edits count first (so `m` suggests `n` and `temprature` suggests `temperature`);
    difflib's ratio catches longer rewrites such as reordered words.
    """
    pool = sorted(set(candidates))
    if not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    limit = max(1, len(name) // 3)
    best = min(pool, key=lambda c: (edit_distance(name, c), c))
    if edit_distance(name, best) <= limit:
        return best
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A help line naming the closest candidate, or None when nothing is close."""
    match = closest(name, candidates)
    return f"did you mean `{match}`?" if match else None
