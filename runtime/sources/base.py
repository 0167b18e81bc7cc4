"""What a source hands to the runtime, and what the runtime gives a source to work with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from flowc.runtime.executor import Batch, BatchOutcome

Emit = Callable[[Batch], Awaitable[list[BatchOutcome]]]
"""Hand one batch to every pipeline reading the source; returns when they are done."""


class SourceState(Protocol):
    """The source's checkpoint in the store: an incremental cursor survives restarts."""

    async def load_cursor(self, source: str) -> str | None: ...

    async def save_cursor(self, source: str, value: str) -> None: ...


@dataclass
class RunResult:
    """One run of a polled source."""

    records: int = 0
    batches: int = 0


class PolledSource(Protocol):
    """A source the scheduler runs (`every`/`cron`) or `flowc run --once` runs once."""

    name: str

    async def run_once(self, emit: Emit, state: SourceState) -> RunResult:
        """Fetch what is new, emit it in batches, save the cursor after each emitted batch."""
        ...

    async def close(self) -> None: ...
