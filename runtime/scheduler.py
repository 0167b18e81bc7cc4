"""Scheduling of polled sources with APScheduler: `every` and `cron`, never overlapping.

Each polled source is one job; `max_instances=1` means a run that is still going when the
next is due makes that next one wait (coalesced into one), so runs of one pipeline never
overlap. Every source runs once at start, then on its schedule.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from flowc.compiler.manifest import Source
from flowc.runtime.app import Runtime
from flowc.runtime.sources.generate import GenerateSourceRunner

log = logging.getLogger("flowc.scheduler")

# A generate source with neither `rate` nor `every` runs as fast as it can: it is
# re-run right after each run until its `count` is reached.
_AS_FAST_AS_POSSIBLE = dt.timedelta(milliseconds=1)


def trigger_for(source: Source, runner: object) -> BaseTrigger | None:
    """When a source runs; None when it runs only once (a finished fixed data set)."""
    if source.cron:
        return CronTrigger.from_crontab(source.cron, timezone=dt.UTC)
    if isinstance(runner, GenerateSourceRunner):
        interval = runner.config.interval() or _AS_FAST_AS_POSSIBLE
        return IntervalTrigger(seconds=interval.total_seconds(), timezone=dt.UTC)
    if source.every_seconds:
        return IntervalTrigger(seconds=source.every_seconds, timezone=dt.UTC)
    return None


class Scheduler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.running: set[str] = set()  # sources with a run under way

    def start(self) -> None:
        sources = {s.name: s for s in self.runtime.compiled.manifest.sources}
        now = dt.datetime.now(dt.UTC)
        for name, runner in self.runtime.sources.items():
            trigger = trigger_for(sources[name], runner)
            self.scheduler.add_job(
                self._run,
                trigger or "date",
                args=[name],
                id=f"source:{name}",
                max_instances=1,
                coalesce=True,
                next_run_time=now,
                misfire_grace_time=None,
            )
        self.scheduler.start()

    async def _run(self, name: str) -> None:
        runner = self.runtime.sources[name]
        if isinstance(runner, GenerateSourceRunner) and runner.generator.exhausted:
            self.scheduler.remove_job(f"source:{name}")
            return
        self.running.add(name)
        try:
            await self.runtime.run_source(name)
        except Exception:
            # Recorded in the run history and the metrics; the next run tries again.
            log.exception("run of source %s failed", name)
        finally:
            self.running.discard(name)

    def has_job(self, name: str) -> bool:
        """Whether the source is (still) on the schedule."""
        return self.scheduler.get_job(f"source:{name}") is not None

    def is_running(self, name: str) -> bool:
        return name in self.running

    def trigger_now(self, name: str) -> None:
        """Run a source now (the API's `POST /api/pipelines/{name}/run`), if not running."""
        self.scheduler.modify_job(f"source:{name}", next_run_time=dt.datetime.now(dt.UTC))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
