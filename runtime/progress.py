"""What a person sees while `flowc run` serves: a live line per pipeline, or JSON logs.

On a terminal, a status block is redrawn every second; elsewhere (a service manager, a
container) the same figures go to structured logs, one JSON object per line with
`--log-format json`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import TextIO

from flowc.runtime.metrics import Metrics


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "flowc", None)
        if isinstance(extra, dict):
            data.update(extra)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("flowc")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def status_lines(metrics: Metrics) -> list[str]:
    width = max((len(n) for n in metrics.pipelines), default=8)
    lines = []
    for name, m in sorted(metrics.pipelines.items()):
        p50 = m.latency_quantile(0.5)
        latency = f"{p50 * 1000:6.1f} ms" if p50 is not None else "     - ms"
        error = f"  last error: {m.last_error}" if m.last_error else ""
        lines.append(
            f"{name:<{width}}  in {m.records_in:>9}  out {m.records_out:>9}  "
            f"stored {m.stored:>9}  rejected {m.rejected:>7}  p50 {latency}{error}"
        )
    return lines


async def show_progress(metrics: Metrics, stream: TextIO, interval: float = 1.0) -> None:
    """Redraw the status block on a terminal, or log it every `interval` seconds."""
    log = logging.getLogger("flowc.progress")
    drawn = 0
    while True:
        await asyncio.sleep(interval)
        lines = status_lines(metrics)
        if stream.isatty():
            if drawn:
                stream.write(f"\x1b[{drawn}F\x1b[J")
            stream.write("\n".join(lines) + "\n")
            stream.flush()
            drawn = len(lines)
        else:
            for name, m in sorted(metrics.pipelines.items()):
                log.info(
                    "pipeline %s", name,
                    extra={"flowc": {"pipeline": name, "records_in": m.records_in,
                                     "records_out": m.records_out, "stored": m.stored,
                                     "rejected": m.rejected, "failures": m.failures}},
                )  # fmt: skip
