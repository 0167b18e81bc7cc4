"""`python -m flowc.runtime` runs the CLI."""

import sys

from flowc.runtime.cli import main

sys.exit(main())
