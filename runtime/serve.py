"""`flowc run` without `--once`: schedule the sources, serve HTTP, stop cleanly on a signal.

On SIGINT or SIGTERM the runtime stops taking work (the scheduler and the server stop
accepting), lets running batches finish, flushes what sinks hold, and closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import uvicorn

from flowc.runtime.app import Runtime
from flowc.runtime.progress import show_progress
from flowc.runtime.scheduler import Scheduler

log = logging.getLogger("flowc.run")


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handling: flowc stops it itself, then cleans up
    (uvicorn would re-raise the signal after serving, cutting the clean-up short)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    runtime: Runtime, host: str, port: int, *, token: str | None, progress: bool = True
) -> None:
    """Serve until SIGINT/SIGTERM; `token` guards the API and dashboards (`api_token`)."""
    from flowc.runtime.dashboards import Dashboards
    from flowc.runtime.server import build_app

    scheduler = Scheduler(runtime)
    runtime.scheduler = scheduler
    app = build_app(runtime, components=[Dashboards(runtime)], require_token=token)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        server.should_exit = True
        # Open event streams (live dashboards) would keep the server waiting forever.
        app.state.api.close_streams()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    scheduler.start()
    reporter = None
    if progress:
        interval = 1.0 if sys.stderr.isatty() else 10.0
        reporter = asyncio.create_task(show_progress(runtime.metrics, sys.stderr, interval))
    log.info("serving on http://%s:%s", host, port)
    try:
        await server.serve()
    finally:
        scheduler.shutdown()
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        await runtime.drain()
        log.info("stopped")
