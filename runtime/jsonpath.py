"""JSONPath for the polled sources: `records`, a cursor's `next` and `has_more`.

The paths are RFC 9535 JSONPath evaluated by python-jsonpath, the same library and dialect
as the webhook source's `records` (`flowc.runtime.records.RecordsPath`), so a path means the
same thing in every source. What differs is what an empty answer means: a webhook body
without records is the sender's mistake, while a poll that finds nothing (an empty last
page, `"nodes": null`, a key an API leaves out when there is nothing) has simply nothing new.
Paths are compiled when the source is built, so a malformed one fails at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonpath

Json = Any  # a value from orjson.loads: dict, list, str, int, float, bool or None


class JsonPathError(ValueError):
    """A path that does not parse; the message shows where."""


@dataclass(frozen=True)
class Path:
    """A compiled path."""

    text: str
    _compiled: jsonpath.JSONPath | jsonpath.CompoundJSONPath

    def find(self, document: Json) -> list[Json]:
        """Every match, in document order."""
        return self._compiled.findall(document)

    def first(self, document: Json) -> Json:
        """The first match, or None when nothing matches."""
        match = self._compiled.match(document)
        return None if match is None else match.obj

    def records(self, document: Json) -> list[Json]:
        """The records at this path: a list gives one record per item, another value is
        one record, and null or no match gives none."""
        # `$`, the common case, needs no evaluation.
        matches = [document] if self.text == "$" else self.find(document)
        out: list[Json] = []
        for match in matches:
            if isinstance(match, list):
                out.extend(match)
            elif match is not None:
                out.append(match)
        return out


@lru_cache(maxsize=256)
def compile_path(text: str) -> Path:
    """A JSONPath such as `$.data.items` or `$.pages[*].rows`, compiled once."""
    try:
        return Path(text, jsonpath.compile(text))
    except jsonpath.JSONPathError as error:
        detail = " ".join(str(error).split())
        raise JsonPathError(f"invalid JSONPath {text!r}: {detail}") from None
