"""`flowc lsp`: the language server over stdio, for editors to start."""

from __future__ import annotations

import gc
import logging
import sys


def run_lsp() -> int:
    """Serve LSP on stdin/stdout until the client says `exit`; logs go to stderr."""
    # Imported here so that `flowc --help` and the other commands never load pygls.
    from flowc.compiler.lsp.server import build_server

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="flowc lsp: %(message)s")
    # Every check allocates a whole unit's AST and types; with the default thresholds the
    # collector runs hundreds of times per keystroke, and a full collection over the cached
    # parse trees shows up as a pause before the diagnostics. Collect less often.
    gc.set_threshold(50_000, 50, 100)
    build_server().start_io()
    return 0
