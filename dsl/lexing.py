"""The postlexer that makes newlines significant only where they separate items.

The grammar treats a newline as a separator between declarations, steps, config
entries and fields. A newline inside ( ) or [ ], or after a token that cannot
end an item, continues the line instead, so long expressions and lists can be
wrapped freely without a continuation character.
"""

from collections.abc import Iterator

from lark import Token

# Token values after which a line cannot end, so a following newline continues it.
CONTINUATION_TOKENS = frozenset(
    {
        ",", "{", "(", "[", "=", ":", "->", "=>", "??", "++",
        "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%",
        "and", "or", "not", "then", "else", "between", "in", "matches", "if",
    }
)  # fmt: skip
_LITERALS = frozenset({"STRING", "LONG_STRING", "NAME"})
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset({")", "]", "}"})


class NewlinePostLexer:
    """Drops `_NL` tokens that do not separate items (see the module docstring)."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # No look-ahead here: the contextual lexer lexes each token in the parser
        # state left by the previous one, so a held-back newline would lex the
        # next token in the wrong state.
        stack: list[str] = []
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL":
                inside_parens = bool(stack) and stack[-1] != "{"
                if (
                    previous is None
                    or previous.type == "_NL"
                    or inside_parens
                    or _continues(previous)
                ):
                    continue
            elif token.type not in _LITERALS:
                value = str(token)
                if value in _OPEN or token.type == "TYPE_OPEN":
                    stack.append(value)
                elif (value in _CLOSE or token.type == "TYPE_CLOSE") and stack:
                    stack.pop()
            previous = token
            yield token


def _continues(token: Token) -> bool:
    # `list<int>` may end a line: its `>` closes type arguments, it is no comparison.
    return (
        token.type not in _LITERALS
        and token.type != "TYPE_CLOSE"
        and str(token) in CONTINUATION_TOKENS
    )
