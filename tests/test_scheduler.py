"""Scheduling: sources run on their interval or cron, and runs of one never overlap."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from flowc.compiler.checker import check_text
from flowc.compiler.manifest import Source
from flowc.runtime.app import Runtime
from flowc.runtime.scheduler import Scheduler, trigger_for
from flowc.runtime.sources.base import Emit, RunResult, SourceState
from flowc.runtime.store.duckdb_store import DuckDBStore

PROGRAM = """\
source ticks: generate {
  every: 50ms
  fields { n: { sequence: 1 } }
}

pipeline counted from ticks {
  where n > 0
}
"""


@dataclass
class SlowSource:
    """A source whose runs take longer than its interval."""

    name: str = "ticks"
    running: int = 0
    most_at_once: int = 0
    runs: int = 0
    finished: list[int] = field(default_factory=list)

    async def run_once(self, emit: Emit, state: SourceState) -> RunResult:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.2)
        self.running -= 1
        self.runs += 1
        return RunResult()

    async def close(self) -> None:
        return None


def test_runs_of_one_source_never_overlap(tmp_path: Path) -> None:
    async def scenario() -> SlowSource:
        result = check_text(PROGRAM, str(tmp_path / "p.flow"))
        runtime = await Runtime.start(result, DuckDBStore(tmp_path / "s.duckdb"))
        slow = SlowSource()
        runtime.sources["ticks"] = slow
        scheduler = Scheduler(runtime)
        scheduler.start()
        await asyncio.sleep(0.9)  # the interval (50 ms) passes many times during a run
        scheduler.shutdown()
        await asyncio.sleep(0.25)
        await runtime.close()
        return slow

    slow = asyncio.run(scenario())
    assert slow.most_at_once == 1
    assert 2 <= slow.runs <= 6


def test_triggers_follow_every_and_cron() -> None:
    every = Source(name="a", kind="http", file="x.flow", config={}, every_seconds=300.0)
    cron = Source(name="b", kind="http", file="x.flow", config={}, cron="*/15 * * * *")
    assert isinstance(trigger_for(every, object()), IntervalTrigger)
    assert trigger_for(every, object()).interval.total_seconds() == 300
    assert isinstance(trigger_for(cron, object()), CronTrigger)
    assert "minute='*/15'" in str(trigger_for(cron, object()))
