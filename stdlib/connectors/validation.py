"""Checking a `source`/`sink` block against its kind's model, in the language's terms.

pydantic reports errors at locations that mix the user's keys with its own tags for union
members (`('headers', 'X', 'str')`) and in its own words ("Input should be a valid
integer"). This module turns each error into a ConfigIssue whose path holds only the keys
the user wrote, so the front end can put a caret on the key, and whose message and help a
user of Flow understands: "expected a duration such as 5m, found a string \"5 minutes\"".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from flowc.dsl.suggest import did_you_mean
from flowc.stdlib.connectors.base import (
    CONFIG_ERROR,
    Connector,
    EnvRef,
    annotation_members,
    flow_literal,
    found,
)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration block.

    `path` leads from the block to the offending key (`("auth", "basic", "password")`;
    list items by index). For a missing key (E304) it ends with the key to add, which is not
    in the source: put the caret on `path[:-1]`, the block that lacks it (`()` being the
    `source`/`sink` block itself). When one of several keys is missing ("`every` or
    `cron`"), the path ends with the first of them.
    """

    code: str
    path: Path
    message: str
    help: str | None = None


def validate_config(
    connector: Connector, values: dict[str, Any]
) -> tuple[BaseModel | None, list[ConfigIssue]]:
    """The validated model and no issues, or None and every issue found. Never raises."""
    try:
        return connector.model.model_validate(values), []
    except ValidationError as error:
        return None, issues_from_error(error, connector.model, values)


# ---- from pydantic's errors to issues ---------------------------------------------------

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "`true` or `false`",
    "time_delta_type": "a duration such as 5m",
    "datetime_type": "a timestamp such as @2026-01-01T00:00:00Z",
    "list_type": "a list such as [1, 2]",
    "dict_type": "a record such as { a: 1 }",
    "invalid-json-value": "a JSON value (string, number, `true`, `false`, `null`, list or record)",
}
_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "of at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "of at most"),
}
_SYNONYMS = {
    "interval": "every",
    "period": "every",
    "poll": "every",
    "schedule": "cron",
    "endpoint": "url",
    "uri": "url",
    "query_params": "params",
    "parameters": "params",
    "jsonpath": "records",
    "root": "records",
    "token": "bearer",
    "retries": "retry",
    "delay": "backoff",
}
_DURATION_TEXT = re.compile(r"\s*[0-9]+\s*(ms|s|m|h|d|w)\s*")
_NUMBER_TEXT = re.compile(r"\s*-?[0-9]+(\.[0-9]+)?\s*")


@dataclass(frozen=True)
class _Raw:
    """A pydantic error with its location reduced to the user's keys."""

    error: ErrorDetails
    path: Path  # for `missing`, the missing key included


def issues_from_error(
    error: ValidationError, model: type[BaseModel], values: object
) -> list[ConfigIssue]:
    """Every issue in `error`, raised by `model` on `values`, in the order pydantic found them."""
    raws = [_Raw(e, _user_path(e, values)) for e in error.errors()]
    # A union such as `int | RetryPolicy` given a record reports "not an integer" next to
    # the record's own problems; the record's problems are the ones the user meant.
    raws = [r for r in raws if not (_expected(r.error) and _has_deeper(r, raws))]
    # Type errors at one path (one per union member) become one issue: "a string or env()".
    typed: dict[Path, list[_Raw]] = {}
    order: list[Path | ConfigIssue] = []
    for raw in raws:
        if _expected(raw.error):
            if raw.path not in typed:
                order.append(raw.path)
            typed.setdefault(raw.path, []).append(raw)
        else:
            order.append(_issue(raw, model, values))
    issues = [i if isinstance(i, ConfigIssue) else _type_issue(typed[i]) for i in order]
    return list(dict.fromkeys(issues))


def _user_path(error: ErrorDetails, values: object) -> Path:
    """The error's location with pydantic's union-member tags left out.

    A segment is the user's when it indexes the value written at that level; anything
    else is a tag such as `str`, `EnvRef` or a discriminator value.
    """
    loc = error["loc"]
    path: list[str | int] = []
    current = values
    for index, segment in enumerate(loc):
        in_record = isinstance(current, dict) and segment in current
        in_list = (
            isinstance(current, list | tuple)
            and isinstance(segment, int)
            and 0 <= segment < len(current)
        )
        if in_record or in_list:
            path.append(segment)
            current = current[segment]  # type: ignore[index]
        elif index == len(loc) - 1 and error["type"] == "missing":
            path.append(segment)
    if error["type"] == CONFIG_ERROR:
        path.extend(error.get("ctx", {}).get("path", ()))
    return tuple(path)


def _has_deeper(raw: _Raw, raws: list[_Raw]) -> bool:
    n = len(raw.path)
    return any(len(o.path) > n and o.path[:n] == raw.path for o in raws)


def _expected(error: ErrorDetails) -> str | None:
    """What a type error expected, in Flow's terms; None for other errors."""
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in ("model_type", "model_attributes_type"):
        return 'env("NAME")' if ctx.get("class_name") == EnvRef.__name__ else "a block { ... }"
    if kind == "literal_error":
        choices = [f"`{v}`" for v in _literals(ctx)]
        return choices[0] if len(choices) == 1 else "one of " + ", ".join(choices)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"a number {words} {flow_literal(ctx.get(key))}"
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long"):
        return _length_phrase(kind, ctx, error["input"])
    return None


def _literals(ctx: dict[str, Any]) -> list[str]:
    # pydantic spells the choices as `'a', 'b' or 'c'`, with non-strings bare (`True`).
    found = re.findall(r"'([^']*)'|(\w+)", str(ctx.get("expected", "")))
    spelled = {"True": "true", "False": "false", "None": "null"}
    return [quoted or spelled.get(bare, bare) for quoted, bare in found if bare != "or"]


def _length_phrase(kind: str, ctx: dict[str, Any], value: object) -> str:
    if kind.startswith("string"):
        if kind == "string_too_short":
            n = ctx.get("min_length", 1)
            return "a non-empty string" if n == 1 else f"a string of at least {n} characters"
        n = ctx.get("max_length", 1)
        return "a single character" if n == 1 else f"a string of at most {n} characters"
    what, one, many = (
        ("a record", "entry", "entries") if isinstance(value, dict) else ("a list", "item", "items")
    )
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"{what} with at least {n} {one if n == 1 else many}"
    n = ctx.get("max_length", 0)
    return f"{what} with at most {n} {one if n == 1 else many}"


def _type_issue(raws: list[_Raw]) -> ConfigIssue:
    path = raws[0].path
    phrases = list(dict.fromkeys(p for r in raws if (p := _expected(r.error))))
    value = raws[0].error["input"]
    if "a number" in phrases and "an integer" in phrases:
        phrases.remove("an integer")
    if len(phrases) > 1:
        phrases = ["`true`/`false`" if p == _EXPECTED["bool_type"] else p for p in phrases]
    expected = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]
    message = f"{_invalid(path)}: expected {expected}, found {found(value)}"
    return ConfigIssue("E303", path, message, _type_help(raws, value))


def _type_help(raws: list[_Raw], value: object) -> str | None:
    kinds = {r.error["type"] for r in raws}
    if isinstance(value, EnvRef):
        return "this key is not read from the environment: write the value itself"
    if isinstance(value, str):
        if "time_delta_type" in kinds and _DURATION_TEXT.fullmatch(value):
            return f"write durations without quotes: `{value.strip().replace(' ', '')}`"
        if kinds & {"int_type", "float_type"} and _NUMBER_TEXT.fullmatch(value):
            return f"write numbers without quotes: `{value.strip()}`"
        if "bool_type" in kinds and value.lower() in ("true", "false", "yes", "no"):
            return "write `true` or `false` without quotes"
        for raw in raws:
            if raw.error["type"] == "literal_error":
                return _did_you_mean(value, _literals(raw.error.get("ctx", {})))
    return None


def _issue(raw: _Raw, model: type[BaseModel], values: object) -> ConfigIssue:
    error, path = raw.error, raw.path
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == CONFIG_ERROR:
        message = str(ctx["message"])
        if ctx["code"] == "E303" and message.startswith("expected"):
            message = f"{_invalid(path)}: {message}"
        if ctx["code"] == "E306" and path and message == "a secret is written in the file":
            message = f"`{_dotted(path)}` is a secret, written in the file"
        return ConfigIssue(str(ctx["code"]), path, message, ctx.get("help"))
    if kind == "missing":
        block, key = path[:-1], str(path[-1])
        description = _description(model, block, values, key)
        help = f"`{key}`: {description}" if description else None
        return ConfigIssue("E304", path, f"missing key `{key}`{_in_block(block)}", help)
    if kind == "extra_forbidden":
        key = str(path[-1])
        keys = _keys_at(model, path[:-1], values)
        return ConfigIssue(
            "E302", path, f"unknown key `{key}`{_in_block(path[:-1])}", _unknown_help(key, keys)
        )
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag")
        return ConfigIssue(
            "E303",
            (*path, "kind"),
            f"{_invalid((*path, 'kind'))}: expected one of "
            + ", ".join(f"`{t}`" for t in tags)
            + f", found {found(tag)}",
            _did_you_mean(str(tag), tags),
        )
    if kind == "union_tag_not_found":
        tags = [
            str(tag)
            for candidate in _models_at(model, path, values)
            if "kind" in candidate.model_fields
            for tag in get_args(candidate.model_fields["kind"].annotation)
        ]
        help = "`kind`: one of " + ", ".join(f"`{t}`" for t in tags) if tags else None
        return ConfigIssue("E304", (*path, "kind"), f"missing key `kind`{_in_block(path)}", help)
    return ConfigIssue("E303", path, f"{_invalid(path)}: found {found(error['input'])}")


def _dotted(path: Path) -> str:
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else ("." if text else "") + segment
    return text


def _invalid(path: Path) -> str:
    return f"invalid value for `{_dotted(path)}`" if path else "invalid configuration"


def _in_block(block: Path) -> str:
    return f" in `{_dotted(block)}`" if block else ""


def _did_you_mean(word: str, candidates: list[str]) -> str | None:
    return did_you_mean(word, candidates)


def _unknown_help(key: str, keys: list[str]) -> str | None:
    if not keys:
        return None
    synonym = _SYNONYMS.get(key.lower())
    if synonym in keys:
        return f"did you mean `{synonym}`?"
    return _did_you_mean(key, keys) or "the keys here are " + ", ".join(f"`{k}`" for k in keys)


# ---- what the model expects at a path ----------------------------------------------------


def _keys_at(model: type[BaseModel], block: Path, values: object) -> list[str]:
    keys: dict[str, None] = {}
    for candidate in _models_at(model, block, values):
        keys.update(dict.fromkeys(candidate.model_fields))
    return list(keys)


def _description(model: type[BaseModel], block: Path, values: object, key: str) -> str | None:
    for candidate in _models_at(model, block, values):
        info = candidate.model_fields.get(key)
        if info is not None and info.description:
            return info.description
    return None


def _models_at(model: type[BaseModel], path: Path, values: object) -> list[type[BaseModel]]:
    """The models that can stand at `path`, narrowed by the `kind` written there."""
    annotations: list[Any] = [model]
    value = values
    for segment in path:
        annotations = [a for ann in annotations for a in _step(ann, segment, value)]
        value = _index(value, segment)
    return [m for ann in annotations for m in annotation_members(ann) if _is_model_for(m, value)]


def _step(annotation: Any, segment: str | int, value: object) -> Iterator[Any]:
    for member in annotation_members(annotation):
        origin = get_origin(member)
        if _is_model_for(member, value) and isinstance(segment, str):
            field = member.model_fields.get(segment)
            if field is not None:
                yield field.annotation
        elif origin is dict and isinstance(segment, str):
            yield get_args(member)[1]
        elif origin is list and isinstance(segment, int):
            yield get_args(member)[0]


def _is_model_for(candidate: Any, value: object) -> bool:
    if not (isinstance(candidate, type) and issubclass(candidate, BaseModel)):
        return False
    if candidate is EnvRef:
        return False
    kind_field = candidate.model_fields.get("kind")
    if (
        kind_field is not None
        and isinstance(value, dict)
        and "kind" in value
        and get_origin(kind_field.annotation) is Literal
    ):
        return value["kind"] in get_args(kind_field.annotation)
    return True


def _index(value: object, segment: str | int) -> object:
    if isinstance(value, dict):
        return value.get(segment)
    if isinstance(value, list | tuple) and isinstance(segment, int) and segment < len(value):
        return value[segment]
    return None
