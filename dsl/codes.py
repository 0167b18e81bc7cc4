"""The registry of diagnostic codes. A released code is never reused or renumbered.

Ranges: E0xx syntax, E1xx names, E2xx types, E3xx configuration, E4xx lowering
(compiler back ends), W5xx warnings. docs/errors.md documents every code here with an
example and its fix; a test fails when one is missing.
"""

CODES: dict[str, str] = {
    # syntax
    "E001": "unexpected token",
    "E002": "unexpected character",
    "E003": "unexpected end of file",
    "E004": "invalid literal",
    "E005": "nested too deeply",
    # names
    "E101": "unknown name",
    "E102": "duplicate declaration",
    "E103": "unknown function",
    "E104": "unknown field",
    "E105": "unknown source or pipeline",
    "E106": "unknown sink",
    "E107": "unknown type",
    "E108": "pipeline cycle",
    "E109": "duplicate field",
    "E110": "unknown validation action",
    "E111": "import not found",
    "E112": "unknown dashboard setting",
    "E113": "unknown test target",
    "E114": "recursive definition",
    # types
    "E201": "type mismatch",
    "E202": "value may be null",
    "E203": "wrong number of arguments",
    "E204": "wrong argument type",
    "E205": "condition is not a boolean",
    "E206": "aggregate used outside `aggregate`",
    "E207": "field not grouped or aggregated",
    "E208": "output does not match its declared type",
    "E209": "not a constant",
    "E210": "invalid operand",
    "E211": "branches have different types",
    "E212": "invalid pattern",
    # configuration
    "E301": "unknown connector kind",
    "E302": "unknown configuration key",
    "E303": "invalid configuration value",
    "E304": "missing configuration key",
    "E305": "invalid persisted column",
    "E306": "secret written in the file",
    # warnings
    "W501": "unused declaration",
    "W502": "step has no effect",
    "W503": "insecure webhook",
}
