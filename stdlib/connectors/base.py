"""What every connector kind is made of: the config base class, secrets and the registry.

A connector kind is one module that declares a pydantic model and registers it with
`declare_source` / `declare_sink`; declaring it is registering it, so adding a kind is one
module plus one import in `__init__`. The model is the single source of truth: the front end
validates `source`/`sink` blocks with it, the docs are generated from it, and the runtime
reads the validated instance.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

from flowc.dsl.builder import escape

SECRET_HELP = 'use env("NAME") and set NAME in the environment'
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: The error type that carries a flowc diagnostic code through pydantic (see `config_error`).
CONFIG_ERROR = "flow_config"


class ConfigModel(BaseModel):
    """Base of every configuration model.

    `strict` because the front end hands over real Python values, and pydantic's lax
    coercions would turn mistakes into surprises (`every: 300` silently meaning 300 seconds,
    `header: "no"` meaning false). `extra="forbid"` makes a misspelt key an error (E302)
    instead of a silently ignored setting.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EnvRef(BaseModel):
    """A value read from the environment when the pipeline runs: `env("NAME")` in Flow.

    Secrets must be EnvRefs, so compiled output and manifests only ever hold the variable's
    name, never its value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str

    def __init__(self, name: str) -> None:
        # Positional, because `EnvRef("TOKEN")` is how the front end and the tests write it.
        super().__init__(name=name)

    def __str__(self) -> str:
        return f'env("{self.name}")'


@dataclass(frozen=True)
class DocType:
    """How the docs spell a field's type when the annotation alone would read badly."""

    text: str


def config_error(
    code: str,
    message: str,
    *,
    path: tuple[str | int, ...] = (),
    help: str | None = None,
) -> PydanticCustomError:
    """An error raised inside a validator that `validate_config` turns into a ConfigIssue.

    `path` is relative to the model that raises it: a model-level check ("`every` and `cron`
    cannot both be set") names the key the caret belongs on, which pydantic cannot express.
    An E304 names the missing key, like pydantic's own "missing" errors.
    """
    context = {"code": code, "message": message, "path": path, "help": help}
    return PydanticCustomError(CONFIG_ERROR, "{message}", context)


_UNITS_US = (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000))


def duration_text(value: dt.timedelta) -> str:
    """A timedelta as a Flow duration literal: `5m`, `90s`, `500ms`."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if micros == 0:
        return "0s"
    for unit, size in _UNITS_US:
        if micros % size == 0:
            return f"{micros // size}{unit}"
    return f"{micros // 1000}ms"  # Flow has nothing finer; microseconds never come from Flow


def flow_literal(value: object) -> str:
    """A Python config value written as Flow source, the way a user would type it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, EnvRef):
        return str(value)
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC) if value.tzinfo else value
        return "@" + utc.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (f"{flow_key(k)}: {flow_literal(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    return repr(value)  # int, float


def flow_key(key: object) -> str:
    """A record key as Flow writes it: bare when it is a name, quoted otherwise."""
    text = str(key)
    return text if _NAME.fullmatch(text) else escape(text)


def found(value: object) -> str:
    """A value as an error message names it: `a string "x"`, `the number 5`, `a record`."""
    if isinstance(value, bool) or value is None:
        return f"`{flow_literal(value)}`"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string {escape(shown)}"
    if isinstance(value, int | float):
        return f"the number {flow_literal(value)}"
    if isinstance(value, dt.timedelta):
        return f"the duration {flow_literal(value)}"
    if isinstance(value, dt.datetime):
        return f"the timestamp {flow_literal(value)}"
    if isinstance(value, EnvRef):
        return f"`{value}`"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a record"
    return f"a value of type {type(value).__name__}"


def _require_env(value: object, info: ValidationInfo) -> object:
    if isinstance(value, EnvRef):
        if not _NAME.fullmatch(value.name):
            raise config_error(
                "E303",
                'expected env("NAME") with a NAME of letters, digits and `_`, not starting '
                f"with a digit, found {found(value)}",
            )
        return value
    if info.mode == "json" and isinstance(value, dict):
        return value  # a manifest read back: EnvRef serialises as {"name": ...}
    if isinstance(value, str):
        raise config_error("E306", "a secret is written in the file", help=SECRET_HELP)
    raise config_error("E303", f'expected env("NAME"), found {found(value)}')


def _no_record_for_env(value: object, info: ValidationInfo) -> object:
    # Without this, strict pydantic would accept a record `{ name: "X" }` as an EnvRef.
    if isinstance(value, dict) and info.mode == "python":
        raise config_error("E303", f'expected a string or env("NAME"), found {found(value)}')
    if isinstance(value, EnvRef):
        return _require_env(value, info)
    return value


#: A secret: only `env("NAME")` is accepted; a literal string is error E306.
Secret = Annotated[EnvRef, BeforeValidator(_require_env), DocType('env("NAME")')]

#: A plain string, or `env("NAME")` for values that are secret in some deployments.
StrOrEnv = Annotated[
    str | EnvRef, BeforeValidator(_no_record_for_env), DocType('str or env("NAME")')
]


@dataclass(frozen=True)
class Example:
    """A worked example for the docs, kept as values so the tests can validate it."""

    name: str
    values: dict[str, Any]
    schema: str | None = None  # the body of a `schema { }` block, one field per line
    title: str | None = None


@dataclass(frozen=True)
class Connector:
    """One connector kind: its configuration model and what the docs say about it."""

    kind: str
    role: Literal["source", "sink"]
    model: type[BaseModel]
    accepts_schema: bool
    doc: str  # one paragraph for users (the model's docstring)
    examples: tuple[Example, ...] = field(default=())


def annotation_members(annotation: Any) -> Iterator[Any]:
    """The alternatives of a field's annotation, with Annotated and Optional unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from annotation_members(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            yield from annotation_members(arg)
    else:
        yield annotation


SOURCES: dict[str, Connector] = {}
SINKS: dict[str, Connector] = {}


def _declare(
    registry: dict[str, Connector],
    role: Literal["source", "sink"],
    kind: str,
    model: type[BaseModel],
    accepts_schema: bool,
    examples: tuple[Example, ...],
) -> Connector:
    if kind in registry:
        raise ValueError(f"{role} kind {kind!r} is declared twice")
    doc = inspect.getdoc(model)
    if not doc:
        raise ValueError(f"{model.__name__} needs a docstring: it is the {role}'s user doc")
    connector = Connector(kind, role, model, accepts_schema, doc, examples)
    registry[kind] = connector
    return connector


def declare_source(
    kind: str,
    model: type[BaseModel],
    *,
    accepts_schema: bool,
    examples: tuple[Example, ...] = (),
) -> Connector:
    """Declare (and so register) a source kind; a kind declared twice raises ValueError."""
    return _declare(SOURCES, "source", kind, model, accepts_schema, examples)


def declare_sink(
    kind: str,
    model: type[BaseModel],
    *,
    examples: tuple[Example, ...] = (),
) -> Connector:
    """Declare (and so register) a sink kind; a kind declared twice raises ValueError."""
    return _declare(SINKS, "sink", kind, model, False, examples)
