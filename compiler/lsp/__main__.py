"""`python -m flowc.compiler.lsp`: the same server as `flowc lsp`."""

import sys

from flowc.compiler.lsp.cli import run_lsp

sys.exit(run_lsp())
