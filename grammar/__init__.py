"""The Lark grammar of the Flow language, shipped as package data (flow.lark)."""

from importlib import resources


def grammar_text() -> str:
    """Return the source of grammar/flow.lark."""
    return resources.files(__name__).joinpath("flow.lark").read_text(encoding="utf-8")


__all__ = ["grammar_text"]
