"""The Flow language front end: spans, AST, parsing, types, diagnostics, formatting."""
