"""Server-sent events: a pipeline's batches, live, as its broadcast on `pipeline:<name>`.

One `batch` event per batch, `data: {"records": [...], "count": n, "at": "..."}` (the first
`max_records` records of the batch; `count` is the batch's size), and a comment every
`keepalive` seconds so proxies and browsers keep an idle connection open. The stream starts
with a comment too, sent once the subscription is made: a client that has read it sees
every later batch.

The subscription is closed when the client goes (Starlette cancels the response), when the
stream has lasted `max_seconds` (EventSource reconnects by itself), or when `closing` is
set: an open stream would otherwise hold up the server's graceful shutdown forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass

import orjson
import polars as pl

from flowc.runtime.api_values import iso, rows_json
from flowc.runtime.executor import Clock
from flowc.runtime.pubsub import Broker, InProcessBroker, Subscription, channel


@dataclass(frozen=True)
class StreamSettings:
    keepalive: float = 15.0
    max_records: int = 1000
    max_seconds: float | None = None
    retry_ms: int = 2000  # how long EventSource waits before reconnecting


def batch_event(frame: pl.DataFrame, at: str, max_records: int, json: Collection[str]) -> bytes:
    data = {"records": rows_json(frame.head(max_records), json), "count": frame.height, "at": at}
    return b"event: batch\ndata: " + orjson.dumps(data) + b"\n\n"


async def batch_events(
    broker: Broker,
    pipeline: str,
    settings: StreamSettings,
    closing: asyncio.Event,
    clock: Clock,
    json_fields: Callable[[], Collection[str]],
) -> AsyncIterator[bytes]:
    """The event stream of one client, subscribed from its first byte to its end."""
    subscription = broker.subscribe(channel(pipeline))
    stop = asyncio.create_task(closing.wait())
    started = time.monotonic()
    try:
        yield f"retry: {settings.retry_ms}\n: subscribed to {channel(pipeline)}\n\n".encode()
        while not closing.is_set():
            timeout = settings.keepalive
            if settings.max_seconds is not None:
                left = settings.max_seconds - (time.monotonic() - started)
                if left <= 0:
                    return
                timeout = min(timeout, left)
            frame = await _next(subscription, stop, timeout)
            if frame is None:
                if stop.done():
                    return
                yield b": keep-alive\n\n"
                continue
            yield batch_event(frame, iso(clock()), settings.max_records, json_fields())
    finally:
        stop.cancel()
        _unsubscribe(broker, subscription)


async def _next(
    subscription: Subscription, stop: asyncio.Task[bool], timeout: float
) -> pl.DataFrame | None:
    """The next batch, or None after `timeout` or once `stop` is done."""
    get = asyncio.ensure_future(subscription.queue.get())
    try:
        await asyncio.wait({get, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not get.done():
            get.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await get
    # A batch that arrived as the wait ended is kept, not lost to the cancellation.
    return get.result() if get.done() and not get.cancelled() else None


def _unsubscribe(broker: Broker, subscription: Subscription) -> None:
    subscription.close()
    if isinstance(broker, InProcessBroker):
        # The broker drops closed subscriptions at its next publish; a quiet pipeline
        # would keep them until then.
        subscribers = broker.subscriptions.get(subscription.topic, [])
        if subscription in subscribers:
            subscribers.remove(subscription)
