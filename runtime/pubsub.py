"""Publish/subscribe on `pipeline:<name>` channels: downstream pipelines and live views.

`Broker` is the interface; `InProcessBroker` the embedded implementation. A broker for
several nodes (NATS, Redis, Kafka) implements the same two methods later, so pipelines and
the server never know which one they use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

Handler = Callable[[pl.DataFrame], Awaitable[None]]


def channel(pipeline: str) -> str:
    return f"pipeline:{pipeline}"


class Broker(Protocol):
    async def publish(self, topic: str, batch: pl.DataFrame) -> None: ...

    def subscribe(self, topic: str, maxsize: int = 64) -> Subscription: ...


@dataclass
class Subscription:
    """Batches published on a topic, from the moment of subscribing; `close()` to stop.

    The queue is bounded: a subscriber that falls behind (a slow browser) loses the oldest
    batches, never blocking publishers. Downstream pipelines use handlers instead.
    """

    topic: str
    queue: asyncio.Queue[pl.DataFrame]
    closed: bool = False
    dropped: int = 0

    def __aiter__(self) -> AsyncIterator[pl.DataFrame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[pl.DataFrame]:
        while not self.closed:
            yield await self.queue.get()

    def offer(self, batch: pl.DataFrame) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(batch)

    def close(self) -> None:
        self.closed = True


@dataclass
class InProcessBroker:
    """One process: subscribers are queues; handlers are awaited in publish order."""

    subscriptions: dict[str, list[Subscription]] = field(default_factory=dict)
    handlers: dict[str, list[Handler]] = field(default_factory=dict)

    async def publish(self, topic: str, batch: pl.DataFrame) -> None:
        for subscription in list(self.subscriptions.get(topic, [])):
            if subscription.closed:
                self.subscriptions[topic].remove(subscription)
            else:
                subscription.offer(batch)
        for handler in self.handlers.get(topic, []):
            await handler(batch)

    def subscribe(self, topic: str, maxsize: int = 64) -> Subscription:
        subscription = Subscription(topic, asyncio.Queue(maxsize))
        self.subscriptions.setdefault(topic, []).append(subscription)
        return subscription

    def on(self, topic: str, handler: Handler) -> None:
        """Call `handler` with every batch on `topic` (downstream pipelines)."""
        self.handlers.setdefault(topic, []).append(handler)
