"""docs/errors.md documents every diagnostic code of the registry, and nothing else.

Each code has a section `## E104: unknown field` whose title is the registry's, with an
example program, the rendered diagnostic and how to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowc.dsl.codes import CODES

ERRORS_MD = Path(__file__).parent.parent / "docs" / "errors.md"
# A level-2 heading that starts with something shaped like a code: `## E104: ...`.
CODE_HEADING = re.compile(r"^## (?P<code>[EW]\d{3})\b(?P<rest>.*)$", re.MULTILINE)


def _headings() -> list[tuple[str, str, str]]:
    """(code, the heading after the code, the section's text) for each `## <CODE>` heading."""
    text = ERRORS_MD.read_text(encoding="utf-8")
    headings = list(re.finditer(r"^## .*$", text, re.MULTILINE))
    found: list[tuple[str, str, str]] = []
    for index, heading in enumerate(headings):
        match = CODE_HEADING.match(heading.group())
        if match is not None:
            end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
            found.append((match.group("code"), match.group("rest"), text[heading.end() : end]))
    return found


def _sections() -> dict[str, tuple[str, str]]:
    """Code -> (the heading after the code, the section's text)."""
    return {code: (rest, body) for code, rest, body in _headings()}


def test_no_code_has_two_sections() -> None:
    codes = [code for code, _, _ in _headings()]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    assert twice == [], f"docs/errors.md has more than one section for {twice}"


def test_every_code_is_documented() -> None:
    missing = sorted(set(CODES) - set(_sections()))
    assert missing == [], (
        f"codes without a `## <CODE>: <title>` section in docs/errors.md: {missing}"
    )


def test_no_unknown_code_is_documented() -> None:
    unknown = sorted(set(_sections()) - set(CODES))
    assert unknown == [], f"docs/errors.md documents codes that are not in dsl/codes.py: {unknown}"


@pytest.mark.parametrize("code", sorted(CODES))
def test_section_title_matches_the_registry(code: str) -> None:
    sections = _sections()
    if code not in sections:
        pytest.skip("reported by test_every_code_is_documented")
    rest, _ = sections[code]
    expected = f": {CODES[code]}"
    assert rest == expected, (
        f"write the heading as `## {code}{expected}` (the registry's title), not `## {code}{rest}`"
    )


@pytest.mark.parametrize("code", sorted(CODES))
def test_section_has_example_output_and_fix(code: str) -> None:
    sections = _sections()
    if code not in sections:
        pytest.skip("reported by test_every_code_is_documented")
    _, body = sections[code]
    assert "```flow\n" in body, f"## {code} needs an example program in a ```flow block"
    assert "```text\n" in body, f"## {code} needs the rendered diagnostic in a ```text block"
    assert f"[{code}]" in body, f"## {code}'s rendered diagnostic does not show {code}"
    assert "How to fix" in body, f"## {code} needs a 'How to fix' part"


GOLDEN = Path(__file__).parent / "golden" / "diagnostics"
_FENCE = re.compile(r"```(?P<lang>flow|text)\n(?P<body>.*?)```", re.DOTALL)


@pytest.mark.parametrize("code", sorted(CODES))
def test_examples_are_the_golden_programs(code: str, update_golden: bool) -> None:
    """The example and its output in the docs are the golden test's, so they stay true."""
    [program] = sorted(GOLDEN.glob(f"{code}_*.flow"))
    expected = {
        "flow": program.read_text(encoding="utf-8"),
        "text": program.with_suffix(".expected").read_text(encoding="utf-8"),
    }
    text = ERRORS_MD.read_text(encoding="utf-8")
    heading = re.search(rf"^## {code}:.*$", text, re.MULTILINE)
    assert heading is not None
    following = re.search(r"^## ", text[heading.end() :], re.MULTILINE)
    end = heading.end() + following.start() if following else len(text)
    section = text[heading.end() : end]
    blocks: dict[str, re.Match[str]] = {}
    for match in _FENCE.finditer(section):
        blocks.setdefault(match.group("lang"), match)
    if update_golden:
        for lang in ("text", "flow"):  # the later block first, so offsets stay valid
            match = blocks[lang]
            section = section[: match.start("body")] + expected[lang] + section[match.end("body") :]
            blocks = {m.group("lang"): m for m in reversed(list(_FENCE.finditer(section)))}
        ERRORS_MD.write_text(text[: heading.end()] + section + text[end:], encoding="utf-8")
        return
    for lang in ("flow", "text"):
        assert blocks[lang].group("body") == expected[lang], f"docs/errors.md {code} {lang}"
