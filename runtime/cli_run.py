"""`flowc run`: the runtime's command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from flowc.runtime.app import Runtime, default_store_path
from flowc.runtime.cli_common import EXIT_ERRORS, EXIT_OK, UsageError, checked, one_file
from flowc.runtime.store.base import BreakingChanges
from flowc.runtime.store.open import open_store
from flowc.runtime.store_plan import STORE_ENV, StoreError, redact


def run(args: argparse.Namespace) -> int:
    path = one_file(args.path)
    result = checked(path)
    if result is None:
        return EXIT_ERRORS
    url = args.store or _env_store() or str(default_store_path(path))
    if not args.once:
        raise UsageError("serving (without --once) needs the HTTP server, which is not built yet")
    try:
        return asyncio.run(_run_once(result, url, args.allow_breaking))
    except (StoreError, BreakingChanges) as error:
        print(f"flowc run: {error}", file=sys.stderr)
        return EXIT_ERRORS


def _env_store() -> str | None:
    import os

    return os.environ.get(STORE_ENV)


async def _run_once(result: object, url: str, allow_breaking: bool) -> int:
    from flowc.compiler.checker import CheckResult

    assert isinstance(result, CheckResult)
    store = await open_store(url)
    try:
        runtime = await Runtime.start(result, store, allow_breaking=allow_breaking)
        print(f"store: {redact(store.description)}", file=sys.stderr)
        summary = await runtime.run_once()
    finally:
        await store.close()
    width = max((len(n) for n in summary), default=8)
    print(f"{'pipeline':<{width}}  {'in':>8}  {'out':>8}  {'stored':>8}  {'rejected':>8}")
    for name, s in summary.items():
        print(f"{name:<{width}}  {s.records_in:>8}  {s.records_out:>8}  {s.stored:>8}  {s.rejected:>8}")
    return EXIT_OK


_ = Path
