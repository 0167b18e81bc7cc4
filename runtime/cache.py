"""The last N records of each pipeline, in memory, for dashboards and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class RecordCache:
    """Keeps the newest `size` records; appending is one vertical concat and a tail."""

    size: int
    frame: pl.DataFrame | None = field(default=None)

    def add(self, batch: pl.DataFrame) -> None:
        if batch.height == 0 or self.size <= 0:
            return
        if self.frame is None:
            self.frame = batch.tail(self.size)
        else:
            self.frame = pl.concat([self.frame, batch], how="vertical_relaxed").tail(self.size)

    def latest(self, limit: int | None = None) -> pl.DataFrame | None:
        """Most recent first."""
        if self.frame is None:
            return None
        newest = self.frame.reverse()
        return newest.head(limit) if limit is not None else newest

    def __len__(self) -> int:
        return 0 if self.frame is None else self.frame.height
