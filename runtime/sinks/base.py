"""What every sink shares: a bounded buffer on its own task, retries, and dead letters.

A `SinkWorker` is what the pipeline runner sees (the executor's `SinkQueue`): `offer`
never waits, so a slow or dead destination can only fill its own buffer, never hold up
ingestion or the other sinks. The worker's task takes the queued batches of one pipeline,
concatenates them up to the destination's batch size, and hands them to its `Destination`
(the kind-specific part: stdout, file, http, postgres, s3). A failed delivery is tried again
with exponential backoff and jitter; what still fails, or what is held when the worker is
stopped and cannot be delivered in time, goes to the dead-letter store: nothing is dropped.

Deliveries of one sink happen one at a time, in arrival order per pipeline, so a
destination never sees two deliveries at once and its own state needs no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import uuid
from collections import Counter, deque
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import ClassVar, TypeVar

import polars as pl

from flowc.runtime.executor import Clock, utc_now
from flowc.runtime.metrics import Metrics
from flowc.runtime.store.base import DEAD_LETTER_SCHEMA, Store
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.common import RetryPolicy

log = logging.getLogger("flowc.sinks")
T = TypeVar("T")

#: Rows a sink holds by default before `offer` says no; a destination's own batch size
#: (an s3 sink's `flush_rows`) raises it so that a full batch always fits twice.
DEFAULT_BUFFER_ROWS = 100_000
#: The longest a server's `Retry-After` is honoured: past that the answer looks broken.
MAX_RETRY_AFTER = 15 * 60.0


class SinkConfigError(Exception):
    """A sink cannot be built: an unknown kind or an environment variable that is not set."""


class PermanentError(Exception):
    """A delivery that trying again cannot fix (a 4xx answer, a value the destination
    refuses): its records go to the dead-letter store at once instead of after every retry."""


class RetryableError(Exception):
    """A delivery that failed for now; `retry_after` (seconds) when the destination said
    how long to wait, which then replaces the computed backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Delivery:
    """Records of one pipeline handed to a destination in one go.

    `received` is when the first of them was offered and `id` is unique per delivery, both
    the same on every retry: a destination that names what it writes after them (an s3
    object, a Parquet file) overwrites its own half-done attempt instead of duplicating it.
    """

    pipeline: str
    frame: pl.DataFrame
    received: dt.datetime
    id: str


class Destination:
    """The kind-specific part of a sink; subclasses override what differs from the defaults.

    By default a delivery holds whatever is queued for a pipeline (`max_rows` None) and is
    due as soon as it is queued. `group` keeps apart records that must not share a delivery
    (the file sink's rotation windows); `due` lets a destination wait for more records
    (the s3 sink's `flush_every`, the end of a Parquet file's window).
    """

    kind: ClassVar[str] = ""
    max_rows: int | None = None
    #: Values that must never appear in an error message, a log line or a dead letter.
    secrets: tuple[str, ...] = ()

    def group(self, received: dt.datetime) -> object:
        return None

    def due(self, received: dt.datetime) -> dt.datetime:
        return received

    async def deliver(self, delivery: Delivery) -> None:
        """Deliver or raise: PermanentError, RetryableError, or anything else (retried)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections; called once, after the worker has stopped."""


def env_value(ref: str | EnvRef, what: str) -> str:
    """A config value, read from the environment when it is `env("NAME")`.

    Read when the sink is built, so that a missing variable stops `flowc run` with a clear
    message before any record is taken, rather than dead-lettering every batch.
    """
    if isinstance(ref, str):
        return ref
    value = os.environ.get(ref.name)
    if value is None:
        raise SinkConfigError(
            f"{what} comes from the environment variable {ref.name}, which is not set"
        )
    return value


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret value replaced, longest first so none leaks in part."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:  # even a short one: a mangled message is better than a leaked password
            text = text.replace(secret, "***")
    return text


def describe(error: BaseException) -> str:
    """An error as a reason for users: our own errors already are one."""
    if isinstance(error, PermanentError | RetryableError):
        return str(error)
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def records_json(frame: pl.DataFrame) -> pl.Series:
    """Each row as a JSON object, in bulk: the `record` of a dead letter."""
    try:
        return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
    except pl.exceptions.PolarsError:  # a type JSON cannot hold (binary, object): as text
        text = frame.select(pl.all().cast(pl.String, strict=False))
        return text.select(pl.struct(pl.all()).struct.json_encode()).to_series()


@dataclass(frozen=True)
class _Item:
    pipeline: str
    frame: pl.DataFrame
    received: dt.datetime
    key: tuple[str, object]


class _Aborted(Exception):
    """The worker was told to give up on what it holds (stop without flush, or timeout)."""


class SinkWorker:
    """One sink: a bounded buffer drained by its own task (the executor's `SinkQueue`).

    `offer` queues a batch or says no at once; `start` launches the task; `settled` waits
    until everything offered so far is delivered or dead-lettered; `stop` stops taking work,
    delivers what it holds within the timeout and dead-letters the rest.
    """

    def __init__(
        self,
        name: str,
        destination: Destination,
        *,
        store: Store,
        metrics: Metrics,
        retry: RetryPolicy,
        capacity: int | None = None,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.destination = destination
        self.store = store
        self.metrics = metrics
        self.retry = retry
        self.capacity = capacity or max(DEFAULT_BUFFER_ROWS, 2 * (destination.max_rows or 0))
        self.clock = clock
        self.rng = rng or random.Random()
        self._queue: deque[_Item] = deque()
        self._rows = 0
        self._rows_by_key: Counter[tuple[str, object]] = Counter()
        self._inflight: Delivery | None = None
        self._changed = asyncio.Event()  # something was offered, or a flush or stop asked
        self._idle = asyncio.Event()  # nothing queued, nothing in flight
        self._idle.set()
        self._aborted = asyncio.Event()
        self._abort_reason = "the sink was stopped before delivery"
        self._closing = False
        self._settling = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def buffered(self) -> int:
        """Records waiting in the buffer (not counting a delivery in flight)."""
        return self._rows

    # ---- the SinkQueue side: called by the pipeline runner ----

    def offer(self, pipeline: str, batch: pl.DataFrame) -> bool:
        """Queue a batch without waiting; False when stopping or when it would overflow.

        A batch larger than the whole buffer is still taken when the buffer is empty, or it
        could never be delivered at all.
        """
        if self._closing:
            return False
        if batch.height == 0:
            return True
        if self._rows and self._rows + batch.height > self.capacity:
            return False
        received = self.clock()
        key = (pipeline, self.destination.group(received))
        self._queue.append(_Item(pipeline, batch, received, key))
        self._rows += batch.height
        self._rows_by_key[key] += batch.height
        self._idle.clear()
        self._changed.set()
        return True

    # ---- lifecycle ----

    def start(self) -> None:
        """Launch the worker's task on the running loop (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"sink {self.name}")

    async def settled(self) -> None:
        """Wait until every record offered so far is delivered or in the dead-letter store.

        Deliveries waiting for more records (`flush_every`, a Parquet window) go out now:
        `flowc run --once` must not wait minutes for a flush that no later batch will trigger.
        """
        if self._task is None:
            raise RuntimeError(f"sink `{self.name}` was not started")
        self._settling += 1
        self._changed.set()
        try:
            while not (self._idle.is_set() and not self._queue and self._inflight is None):
                if self._task.done():
                    break
                await self._idle.wait()
        finally:
            self._settling -= 1

    async def stop(self, flush: bool = True, timeout: float = 10.0) -> None:
        """Stop taking batches; deliver what is held within `timeout` seconds (with
        `flush`), and keep whatever is left in the dead-letter store."""
        if self._closed:
            return
        self._closing = True
        if not flush:
            self._aborted.set()
        self._changed.set()
        self.start()  # never started: the task still delivers or dead-letters what is held
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._abort_reason = f"not delivered within the {timeout:g}s shutdown timeout"
            self._aborted.set()
            self._changed.set()
            await self._task
        finally:
            self._closed = True
            await self.destination.close()

    # ---- the worker's task ----

    async def _run(self) -> None:
        try:
            while (delivery := await self._next()) is not None:
                await self._deliver(delivery)
        except Exception:  # a bug here must not lose what the buffer holds
            log.exception("sink %s: the worker failed", self.name)
            self._abort_reason = "the sink's worker failed"
        rest = [self._delivery_of([item]) for item in self._queue]
        self._queue.clear()
        self._rows = 0
        self._rows_by_key.clear()
        self._closing = True  # done: later offers are refused (and dead-lettered by the runner)
        if rest:
            await self._give_up(rest, self._abort_reason)
        self._idle.set()

    async def _next(self) -> Delivery | None:
        """The next delivery once it is due; None when the worker is done."""
        while True:
            self._changed.clear()
            if self._aborted.is_set():
                return None
            if not self._queue:
                self._idle.set()
                if self._closing:
                    return None
                await self._changed.wait()
                continue
            head = self._queue[0]
            wait = self._wait(head)
            if wait <= 0:
                return self._take(head.key)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)

    def _wait(self, head: _Item) -> float:
        """Seconds until the head's delivery is due: now when flushing or when full."""
        limit = self.destination.max_rows
        if self._closing or self._settling or (limit and self._rows_by_key[head.key] >= limit):
            return 0.0
        return (self.destination.due(head.received) - self.clock()).total_seconds()

    def _take(self, key: tuple[str, object]) -> Delivery:
        """Up to `max_rows` queued records with this key, in order; a split batch's rest
        keeps its place at the front. A batch whose columns differ from the first one's
        (the program changed) ends the delivery, so no delivery mixes two shapes."""
        limit = self.destination.max_rows or self._rows
        taken: list[_Item] = []
        rest: deque[_Item] = deque()
        rows = 0
        for item in self._queue:
            room = limit - rows
            if item.key == key and taken and item.frame.schema != taken[0].frame.schema:
                room = limit = 0  # everything after it waits for the next delivery
            if item.key != key or room <= 0:
                rest.append(item)
            elif item.frame.height > room:
                taken.append(replace(item, frame=item.frame.slice(0, room)))
                rest.append(replace(item, frame=item.frame.slice(room)))
                rows += room
            else:
                taken.append(item)
                rows += item.frame.height
        self._queue = rest
        self._rows -= rows
        self._rows_by_key[key] -= rows
        if self._rows_by_key[key] <= 0:
            del self._rows_by_key[key]
        return self._delivery_of(taken)

    def _delivery_of(self, items: list[_Item]) -> Delivery:
        frames = [item.frame for item in items]
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)
        return Delivery(items[0].pipeline, frame, items[0].received, uuid.uuid4().hex)

    async def _deliver(self, delivery: Delivery) -> None:
        self._inflight = delivery
        try:
            error = await self._attempts(delivery)
            if error is None:
                counts = self.metrics.of(delivery.pipeline).sink_deliveries
                counts[self.name] = counts.get(self.name, 0) + delivery.frame.height
            else:
                await self._give_up([delivery], error)
        finally:
            self._inflight = None

    async def _attempts(self, delivery: Delivery) -> str | None:
        """Try per the retry policy; None once delivered, else the reason to give up."""
        attempts = self.retry.attempts
        error = ""
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                await self._unless_aborted(self.destination.deliver(delivery))
                return None
            except _Aborted:
                return self._stopped(error)
            except PermanentError as exc:
                return self._reason(exc)
            except Exception as exc:
                error = self._reason(exc)
                if isinstance(exc, RetryableError):
                    retry_after = exc.retry_after
            if attempt == attempts:
                break
            delay = self.backoff(attempt, retry_after)
            log.warning(
                "sink %s: delivery of %d record(s) failed (attempt %d of %d), retrying in "
                "%.1fs: %s", self.name, delivery.frame.height, attempt, attempts, delay, error,
            )  # fmt: skip
            try:
                await self._unless_aborted(asyncio.sleep(delay))
            except _Aborted:
                return self._stopped(error)
        return f"{error} (gave up after {attempts} attempt{'s' if attempts > 1 else ''})"

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before try `attempt + 1`: the server's Retry-After when it gave one, else
        `backoff` doubled per retry up to `max_backoff`, drawn between half and all of it so
        that sinks failing together do not retry in lockstep."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        first = self.retry.backoff.total_seconds()
        ceiling = min(first * 2.0 ** (attempt - 1), self.retry.max_backoff.total_seconds())
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _reason(self, error: BaseException) -> str:
        return redact(describe(error), self.destination.secrets)

    def _stopped(self, last_error: str) -> str:
        reason = self._abort_reason
        return f"{reason}; last error: {last_error}" if last_error else reason

    async def _unless_aborted(self, work: Awaitable[T]) -> T:
        """Await `work`, cancelling it when the worker is aborted (raises _Aborted)."""
        task = asyncio.ensure_future(work)
        aborted = asyncio.ensure_future(self._aborted.wait())
        try:
            await asyncio.wait({task, aborted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            aborted.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if task.cancelled():
            raise _Aborted
        return task.result()

    async def _give_up(self, deliveries: list[Delivery], reason: str) -> None:
        """Keep undelivered records in the dead-letter store, with why."""
        now, rule = self.clock(), f"sink {self.name}"
        letters = pl.concat([
            pl.DataFrame({"pipeline": d.pipeline, "rule": rule, "action": "undelivered",
                          "reason": reason, "record": records_json(d.frame), "at": now},
                         schema=DEAD_LETTER_SCHEMA)
            for d in deliveries if d.frame.height
        ] or [pl.DataFrame(schema=DEAD_LETTER_SCHEMA)])  # fmt: skip
        for d in deliveries:
            counts = self.metrics.of(d.pipeline).sink_failures
            counts[self.name] = counts.get(self.name, 0) + d.frame.height
        try:
            await self.store.dead_letters(letters)
        except Exception:
            log.exception(
                "sink %s: %d undelivered record(s) could not be kept in the dead-letter "
                "store either, and are lost (%s)", self.name, letters.height, reason,
            )  # fmt: skip
            return
        log.error(
            "sink %s: %d record(s) not delivered, kept in the dead-letter store: %s",
            self.name, letters.height, reason,
        )  # fmt: skip
