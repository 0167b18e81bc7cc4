"""The editor support in docs/editors/ is valid and keeps up with the language.

These checks need no Node.js. The tokenizer test that runs the TextMate grammar through VS
Code's own engine is `docs/editors/vscode/test/grammar.test.js` (`npm run test:grammar`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDITORS = ROOT / "docs" / "editors"
VSCODE = EDITORS / "vscode"
PACKAGE = VSCODE / "package.json"
LANGUAGE_CONFIGURATION = VSCODE / "language-configuration.json"
TM_GRAMMAR = VSCODE / "syntaxes" / "flow.tmLanguage.json"
LARK = ROOT / "grammar" / "flow.lark"
EDITORS_DOC = ROOT / "docs" / "editors.md"

# Scopes that mark a keyword: keywords proper, declaration keywords, true/false/null.
KEYWORD_SCOPES = ("keyword.", "storage.", "constant.language.")
TYPES = ("int", "float", "bool", "str", "timestamp", "date", "duration", "json", "list")
WORDS = re.compile(r"[a-z_]+(?:\|[a-z_]+)*")

JSON_FILES = sorted(path for path in EDITORS.rglob("*.json") if "node_modules" not in path.parts)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def lark_keywords() -> set[str]:
    """The keywords of the language: the double-quoted words of the Lark grammar."""
    return set(re.findall(r'"([a-z_]+)"', LARK.read_text(encoding="utf-8")))


def patterns(node: Any) -> Iterator[dict[str, Any]]:
    """Every pattern (a rule with `match` or `begin`) of a TextMate grammar, at any depth."""
    if isinstance(node, dict):
        if "match" in node or "begin" in node:
            yield node
        for value in node.values():
            yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


def regexes(pattern: dict[str, Any]) -> list[str]:
    return [pattern[key] for key in ("match", "begin", "end") if key in pattern]


def groups(regex: str) -> list[tuple[int | None, str]]:
    """The groups of a regex as (capture number or None, text inside the parentheses).

    Enough for this grammar's regexes: `\\x` escapes and `[...]` classes are skipped, and a
    group opened by `(?` does not capture.
    """
    found: list[tuple[int | None, str]] = []
    stack: list[tuple[int | None, int]] = []
    count = 0
    in_class = False
    i = 0
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            if regex.startswith("?", i + 1):
                stack.append((None, i + 1))
            else:
                count += 1
                stack.append((count, i + 1))
        elif char == ")":
            number, start = stack.pop()
            found.append((number, regex[start:i]))
        i += 1
    return found


def scope_of_group(pattern: dict[str, Any], number: int | None) -> str:
    """The scope a pattern gives to one of its groups (its own name for other groups)."""
    if number is not None:
        for key in ("captures", "beginCaptures"):
            capture = pattern.get(key, {}).get(str(number))
            if capture and "name" in capture:
                return str(capture["name"])
    return str(pattern.get("name", ""))


def words_with_scope(grammar: Any, prefixes: tuple[str, ...]) -> set[str]:
    """Words that the grammar matches as `(word|word|...)` groups given one of the scopes."""
    words: set[str] = set()
    for pattern in patterns(grammar):
        for regex in (pattern[key] for key in ("match", "begin") if key in pattern):
            for number, text in groups(regex):
                if WORDS.fullmatch(text) and scope_of_group(pattern, number).startswith(prefixes):
                    words.update(text.split("|"))
    return words


def test_the_json_files_parse() -> None:
    names = {path.relative_to(VSCODE).as_posix() for path in JSON_FILES if VSCODE in path.parents}
    assert {
        "package.json",
        "language-configuration.json",
        "syntaxes/flow.tmLanguage.json",
        "tsconfig.json",
        ".vscode/launch.json",
    } <= names
    for path in JSON_FILES:
        try:
            load(path)
        except json.JSONDecodeError as error:
            pytest.fail(f"{path.relative_to(ROOT)}: {error}")


def test_every_keyword_is_in_the_keyword_patterns() -> None:
    keywords = lark_keywords()
    assert {"pipeline", "aggregate", "between", "else", "null"} <= keywords  # the scan works
    matched = words_with_scope(load(TM_GRAMMAR), KEYWORD_SCOPES)
    missing = sorted(keywords - matched)
    assert missing == [], f"keywords of {LARK.name} that the TextMate grammar does not scope"


def test_every_type_is_in_the_type_patterns() -> None:
    matched = words_with_scope(load(TM_GRAMMAR), ("support.type.",))
    assert sorted(set(TYPES) - matched) == []


def test_the_validation_actions_are_keywords() -> None:
    matched = words_with_scope(load(TM_GRAMMAR), ("keyword.other.action",))
    assert {"dead_letter", "drop", "warn", "fail"} <= matched


def test_the_grammar_is_well_formed() -> None:
    grammar = load(TM_GRAMMAR)
    assert grammar["scopeName"] == "source.flow"
    assert "flow" in grammar["fileTypes"]
    repository = grammar["repository"]
    text = TM_GRAMMAR.read_text(encoding="utf-8")
    for name in re.findall(r'"include":\s*"#([^"]+)"', text):
        assert name in repository, f"#{name} is included but not defined"
    for pattern in patterns(grammar):
        for regex in regexes(pattern):
            # A control character is almost always a JSON escape gone wrong ("\b" for "\\b").
            assert not any(ord(char) < 32 for char in regex), repr(regex)
            # The grammar keeps to regex syntax that Oniguruma and Python's re share, so that
            # this test can compile every expression.
            try:
                re.compile(regex)
            except re.error as error:
                pytest.fail(f"{regex!r}: {error}")


def test_the_comment_token_is_double_slash() -> None:
    configuration = load(LANGUAGE_CONFIGURATION)
    assert configuration["comments"] == {"lineComment": "//"}
    assert ["{", "}"] in configuration["brackets"]
    assert ["(", ")"] in configuration["brackets"]
    assert ["[", "]"] in configuration["brackets"]
    closing = {(pair["open"], pair["close"]) for pair in configuration["autoClosingPairs"]}
    assert {("{", "}"), ("[", "]"), ("(", ")"), ('"', '"')} <= closing


def test_the_package_contributes_the_language_grammar_and_settings() -> None:
    package = load(PACKAGE)
    assert package["name"] == "flowc"
    assert (VSCODE / package["main"]).is_file()
    assert "vscode-languageclient" in package["dependencies"]
    contributes = package["contributes"]
    [language] = contributes["languages"]
    assert language["id"] == "flow"
    assert language["extensions"] == [".flow"]
    assert (VSCODE / language["configuration"]).resolve() == LANGUAGE_CONFIGURATION
    [grammar] = contributes["grammars"]
    assert grammar["language"] == "flow"
    assert grammar["scopeName"] == load(TM_GRAMMAR)["scopeName"]
    assert (VSCODE / grammar["path"]).resolve() == TM_GRAMMAR
    settings = contributes["configuration"]["properties"]
    assert settings["flowc.path"]["default"] == "flowc"
    assert settings["flowc.args"]["default"] == ["lsp"]
    # vsce refuses to package when @types/vscode is newer than the engine.
    engine = re.findall(r"\d+", package["engines"]["vscode"])[:2]
    types = re.findall(r"\d+", package["devDependencies"]["@types/vscode"])[:2]
    assert [int(n) for n in types] <= [int(n) for n in engine]


def test_the_helix_snippet_in_the_docs() -> None:
    text = EDITORS_DOC.read_text(encoding="utf-8")
    [block] = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    config = tomllib.loads(block)
    [language] = config["language"]
    assert language["file-types"] == ["flow"]
    assert language["comment-token"] == "//"
    assert language["language-servers"] == ["flowc"]
    assert config["language-server"]["flowc"] == {"command": "flowc", "args": ["lsp"]}
    for block in re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL):
        json.loads(block)
