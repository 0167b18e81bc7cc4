"""Signature help: the parameters of the call the cursor is in, the current one marked.

The call is found in the text (the innermost `name(` still open before the cursor), since
a call being typed never parses; the signature comes from the stdlib declaration, or from
the user's `fn` as last checked.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from flowc.compiler.lsp.analysis import Analysis, LastGood
from flowc.compiler.lsp.context import context_at
from flowc.compiler.lsp.describe import user_fn_signature
from flowc.dsl import ast
from flowc.stdlib.functions import REGISTRY

_CALLEE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
_ARGS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[()\[\]{},]')


def signature_help(
    analysis: Analysis, memory: LastGood, position: lsp.Position
) -> lsp.SignatureHelp | None:
    offset = analysis.positions().offset(position)
    text = analysis.text
    ctx = context_at(text, offset)
    if ctx.in_string or ctx.in_comment:
        return None
    call = next((b for b in reversed(ctx.open) if b.char == "("), None)
    if call is None:
        return None
    callee = _CALLEE.search(text, 0, call.offset)
    if callee is None:
        return None
    active = _argument_index(text[call.offset + 1 : offset])
    name = callee.group(1)
    function = REGISTRY.get(name)
    user = _user_fn(analysis, memory, name)
    if user is not None:
        label = user_fn_signature(user, analysis.result, analysis.file)
        params = [p.name.name for p in user.params]
        documentation = None
        docs: list[str | None] = [None] * len(params)
    elif function is not None:
        label = function.signature
        params = [p.name for p in function.params]
        docs = [p.doc for p in function.params]
        documentation = function.doc
        if function.variadic and params:
            active = min(active, len(params) - 1)
    else:
        return None
    parameters = [
        lsp.ParameterInformation(label=_param_label(label, param), documentation=doc)
        for param, doc in zip(params, docs, strict=True)
    ]
    signature = lsp.SignatureInformation(
        label=label, documentation=documentation, parameters=parameters
    )
    return lsp.SignatureHelp(
        signatures=[signature], active_signature=0, active_parameter=min(active, len(params))
    )


def _user_fn(analysis: Analysis, memory: LastGood, name: str) -> ast.Fn | None:
    symbols = analysis.result.symbols
    found = symbols.lookup(name, (ast.Fn,), analysis.file) if symbols else None
    if found is not None and isinstance(found.decl, ast.Fn):
        return found.decl
    return memory.fns.get(name)


def _argument_index(inside: str) -> int:
    """Commas at the call's own depth before the cursor: the 0-based argument."""
    depth, commas = 0, 0
    for match in _ARGS.finditer(inside):
        token = match.group()
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif token == "," and depth == 0:
            commas += 1
    return commas


def _param_label(signature: str, param: str) -> tuple[int, int] | str:
    """The parameter's place in the signature label, so editors can underline it."""
    found = re.search(rf"\b{re.escape(param)}:", signature)
    if found is None:
        return param
    end = signature.find(",", found.start())
    close = signature.find(")", found.start())
    bracket = signature.find("]", found.start())
    stops = [p for p in (end, close, bracket) if p != -1]
    return (found.start(), min(stops) if stops else len(signature))
