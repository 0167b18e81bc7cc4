"""`flowc run`: compile in memory, prepare the store, then run once or serve."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from flowc.compiler.checker import CheckResult
from flowc.runtime.api_auth import ServerConfigError, api_token
from flowc.runtime.app import Runtime, default_store_path
from flowc.runtime.cli_common import EXIT_ERRORS, EXIT_OK, checked, one_file
from flowc.runtime.progress import configure_logging
from flowc.runtime.sinks.base import SinkConfigError
from flowc.runtime.store.base import BreakingChanges
from flowc.runtime.store.open import open_store
from flowc.runtime.store_plan import STORE_ENV, StoreError, redact


def run(args: argparse.Namespace) -> int:
    path = one_file(args.path)
    result = checked(path)
    if result is None:
        return EXIT_ERRORS
    configure_logging(args.log_format)
    url = args.store or os.environ.get(STORE_ENV) or str(default_store_path(path))
    try:
        # Checked first: a server that would expose the API without a token never starts.
        token = None if args.once else api_token(args.host)
        return asyncio.run(_run(result, url, args, token))
    except (StoreError, BreakingChanges, SinkConfigError, ServerConfigError) as error:
        print(f"flowc run: {error}", file=sys.stderr)
        return EXIT_ERRORS


async def _run(result: CheckResult, url: str, args: argparse.Namespace, token: str | None) -> int:
    store = await open_store(url)
    print(f"store: {redact(store.description)}", file=sys.stderr)
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        runtime = await Runtime.start(result, store, allow_breaking=args.allow_breaking)
    except BaseException:
        await store.close()
        raise
    if args.once:
        try:
            await runtime.replay()
            summary = await runtime.run_once()
        finally:
            await runtime.drain()
        width = max((len(n) for n in summary), default=8)
        print(f"{'pipeline':<{width}}  {'in':>9}  {'out':>9}  {'stored':>9}  {'rejected':>9}")
        for name, s in summary.items():
            print(
                f"{name:<{width}}  {s.records_in:>9}  {s.records_out:>9}  "
                f"{s.stored:>9}  {s.rejected:>9}"
            )
        return EXIT_OK
    from flowc.runtime.serve import serve

    await serve(runtime, args.host, args.port, token=token, progress=args.log_format != "json")
    return EXIT_OK
