"""The `generate` source: synthetic records for demos, tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from flowc.stdlib.connectors.base import (
    ConfigModel,
    DocType,
    Example,
    config_error,
    declare_source,
)
from flowc.stdlib.connectors.common import Duration

Scalar = Annotated[str | int | float | bool, DocType("str, int, float or bool")]
GeneratorName = Literal["sequence", "choice", "uniform", "normal", "int_range", "now", "constant"]
GENERATORS: tuple[GeneratorName, ...] = (
    "sequence",
    "choice",
    "uniform",
    "normal",
    "int_range",
    "now",
    "constant",
)


class UniformSpec(ConfigModel):
    """Floats spread evenly between two bounds."""

    min: float = Field(description="the lowest value")
    max: float = Field(description="the highest value (excluded)")

    @model_validator(mode="after")
    def _order(self) -> UniformSpec:
        if self.max <= self.min:
            raise config_error("E303", "`max` must be greater than `min`", path=("max",))
        return self


class NormalSpec(ConfigModel):
    """Floats from a normal (Gaussian) distribution."""

    mean: float = Field(description="the centre of the distribution")
    std: float = Field(ge=0, description="the standard deviation")


class IntRangeSpec(ConfigModel):
    """Integers spread evenly between two bounds, both included."""

    min: int = Field(description="the lowest value")
    max: int = Field(description="the highest value (included)")

    @model_validator(mode="after")
    def _order(self) -> IntRangeSpec:
        if self.max < self.min:
            raise config_error("E303", "`max` must not be less than `min`", path=("max",))
        return self


def _scalar_type(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else "str"


class FieldSpec(ConfigModel):
    """How one field is generated: exactly one generator key, plus `null_rate`."""

    sequence: int | None = Field(default=None, description="consecutive integers from this one")
    choice: list[Scalar] | None = Field(
        default=None, min_length=1, description="a value picked from this list"
    )
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, description="with `choice`: relative weights, one per value"
    )
    uniform: UniformSpec | None = Field(default=None, description="a float in `{ min, max }`")
    normal: NormalSpec | None = Field(default=None, description="a float from `{ mean, std }`")
    int_range: IntRangeSpec | None = Field(default=None, description="an int in `{ min, max }`")
    now: Literal[True] | None = Field(default=None, description="`true`: the time of generation")
    constant: Scalar | None = Field(default=None, description="always this value")
    null_rate: float = Field(default=0.0, ge=0, le=1, description="the share of nulls, from 0 to 1")

    @model_validator(mode="before")
    @classmethod
    def _no_null_constant(cls, data: Any, info: ValidationInfo) -> Any:
        # Unset generators are None, so a null constant would read as "no generator".
        # (A manifest holds every key, nulls included: only Flow input is checked.)
        if info.mode == "python" and isinstance(data, dict) and data.get("constant", 0) is None:
            raise config_error(
                "E303",
                "a constant cannot be null",
                path=("constant",),
                help="to generate only nulls, use `null_rate: 1.0` with any generator",
            )
        return data

    @model_validator(mode="after")
    def _one_generator(self) -> FieldSpec:
        chosen = [name for name in GENERATORS if getattr(self, name) is not None]
        if not chosen:
            raise config_error(
                "E304",
                "missing a generator: one of " + ", ".join(f"`{g}`" for g in GENERATORS),
                path=(GENERATORS[0],),
                help="for example `{ uniform: { min: 0.0, max: 1.0 } }`",
            )
        if len(chosen) > 1:
            raise config_error(
                "E303",
                f"a field has one generator, found `{chosen[0]}` and `{chosen[1]}`",
                path=(chosen[1],),
            )
        if self.weights is not None:
            if self.choice is None:
                raise config_error(
                    "E303", "`weights` only applies with `choice`", path=("weights",)
                )
            if len(self.weights) != len(self.choice):
                raise config_error(
                    "E303",
                    f"`weights` has {len(self.weights)} values for {len(self.choice)} choices",
                    path=("weights",),
                )
        if self.choice is not None:
            self._choice_type()
        return self

    @property
    def generator(self) -> GeneratorName:
        """The generator this spec uses (validation guarantees exactly one)."""
        return next(name for name in GENERATORS if getattr(self, name) is not None)

    def _choice_type(self) -> str:
        types = {_scalar_type(value) for value in self.choice or ()}
        if types == {"int", "float"}:
            return "float"
        if len(types) != 1:
            raise config_error(
                "E303",
                "the values of `choice` must all have one type, found "
                + " and ".join(sorted(types)),
                path=("choice",),
            )
        return types.pop()

    def flow_type(self) -> str:
        """The Flow type of the generated values, `?` included when nulls are produced."""
        generator = self.generator
        if generator in ("sequence", "int_range"):
            base = "int"
        elif generator in ("uniform", "normal"):
            base = "float"
        elif generator == "now":
            base = "timestamp"
        elif generator == "choice":
            base = self._choice_type()
        else:
            assert self.constant is not None
            base = _scalar_type(self.constant)
        return base + ("?" if self.null_rate > 0 else "")


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _field_names(fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
    for name in fields:
        if not _FIELD_NAME.fullmatch(name):
            raise config_error(
                "E303",
                f"`{name}` cannot be a field name: use letters, digits and `_`",
                path=(name,),
            )
    return fields


class GenerateSource(ConfigModel):
    """Generates synthetic records, for demos, tests and benchmarks, from a generator per
    field. With `rate`, records come at that many per second; with `every`, a batch of
    `batch` records comes at each interval; with neither, records come as fast as the
    pipeline takes them, which is what benchmarks want, until `count` is reached. A `seed`
    makes the records the same on every run. The source's schema is derived from
    `fields`, so it takes no `schema` block.
    """

    fields: Annotated[dict[str, FieldSpec], AfterValidator(_field_names)] = Field(
        min_length=1, description="a generator per field, e.g. `temp: { normal: { ... } }`"
    )
    rate: float | None = Field(default=None, gt=0, description="records per second")
    every: Duration | None = Field(default=None, description="or: the time between two batches")
    batch: int | None = Field(
        default=None,
        gt=0,
        description="records per batch",
        json_schema_extra={
            "doc_default": "1 with `every`, a second's worth with `rate`, else 1000"
        },
    )
    count: int | None = Field(default=None, gt=0, description="stop after this many records")
    seed: int | None = Field(default=None, description="makes runs repeatable; random when unset")

    @model_validator(mode="after")
    def _pace(self) -> GenerateSource:
        if self.rate is not None and self.every is not None:
            raise config_error("E303", "`rate` and `every` cannot both be set", path=("every",))
        if self.rate is None and self.every is None and self.count is None:
            raise config_error(
                "E304",
                "missing `count`: without `rate` or `every`, records come as fast as "
                "possible and only `count` ends them",
                path=("count",),
                help="add `every: 1s` for a steady stream, or `count: 1000` for a fixed amount",
            )
        return self

    def batch_size(self) -> int:
        """Records per batch, with the defaults filled in."""
        if self.batch is not None:
            return self.batch
        if self.every is not None:
            return 1
        if self.rate is not None:
            return max(1, math.ceil(self.rate))
        return 1000

    def interval(self) -> dt.timedelta:
        """The time between two batches (zero: as fast as possible)."""
        if self.every is not None:
            return self.every
        if self.rate is not None:
            return dt.timedelta(seconds=self.batch_size() / self.rate)
        return dt.timedelta(0)


def generated_schema(config: GenerateSource) -> dict[str, str]:
    """The Flow type of each generated field, e.g. `{"temp": "float?", "ts": "timestamp"}`.

    A `generate` source has no `schema` block; the checker uses this instead.
    """
    return {name: spec.flow_type() for name, spec in config.fields.items()}


CONNECTOR = declare_source(
    "generate",
    GenerateSource,
    accepts_schema=False,
    examples=(
        Example(
            "sensors",
            {
                "every": dt.timedelta(seconds=1),
                "batch": 10,
                "seed": 42,
                "fields": {
                    "id": {"sequence": 1},
                    "sensor": {"choice": ["a", "b", "c"], "weights": [0.5, 0.3, 0.2]},
                    "temp": {"normal": {"mean": 20.0, "std": 5.0}, "null_rate": 0.01},
                    "ts": {"now": True},
                },
            },
            title="Ten sensor readings a second, 1% of them missing a temperature",
        ),
        Example(
            "load",
            {
                "count": 1_000_000,
                "batch": 10_000,
                "fields": {
                    "user": {"int_range": {"min": 1, "max": 5000}},
                    "amount": {"uniform": {"min": 0.0, "max": 250.0}},
                    "currency": {"constant": "EUR"},
                },
            },
            title="A million records as fast as possible, for a benchmark",
        ),
    ),
)
