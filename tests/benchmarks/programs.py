"""Generated programs of a given size, for benchmarks of the front end."""

from __future__ import annotations

_BLOCK = """\
source src_{i}: http {{
  url: "https://api.example.com/v1/readings/{i}"
  every: 5m
  records: "$.items"
  schema {{
    time: str
    sensor: str
    value: float?
    unit: str
  }}
}}

pipeline readings_{i} from src_{i} {{
  map {{
    ts     = parse_timestamp(time, "%Y-%m-%dT%H:%M:%S") ?? now()
    sensor = lower(trim(sensor))
    value  = value ?? 0.0
    scaled = round(value * SCALE + OFFSET_{i}, 2)
    label  = sensor ++ ":" ++ unit
  }}
  validate {{
    value between -50.0 and 150.0 else dead_letter
    sensor matches "^[a-z0-9_-]+$" else drop
  }}
  persist timescale readings_{i} {{
    time: ts
    key: (sensor, ts)
    retention: 30d
  }}
}}

pipeline hourly_{i} from readings_{i} {{
  aggregate every 1h by sensor {{
    mean_value = mean(value)
    max_value  = max(value)
    n          = count()
  }}
}}

const OFFSET_{i} = {i}.5

"""


def generated_program(lines: int) -> str:
    """A valid program of at least `lines` lines, made of repeated realistic blocks."""
    parts = ["const SCALE = 1.5\n\n"]
    total = 2
    i = 0
    block_lines = _BLOCK.count("\n")
    while total < lines:
        parts.append(_BLOCK.format(i=i))
        total += block_lines
        i += 1
    return "".join(parts)
