"""Go to definition, find references and rename, for declarations, fields and parameters.

A declaration is found by the span of its name; a field by the span that made it (see
`index`). A field passed through unchanged by `aggregate ... by` is the same field on both
sides, so its references and a rename follow it into the rollup and the pipelines after.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from flowc.compiler.lsp.analysis import Analysis
from flowc.compiler.lsp.index import Occurrence, Role
from flowc.compiler.lsp.tokens import KEYWORDS
from flowc.compiler.symbols import KIND_NAMES
from flowc.dsl.span import Span

REQUEST_FAILED = -32803  # LSP's RequestFailed: the request is valid but cannot be done here
_SYMBOLS = (Role.DECL, Role.SYMBOL)
_FIELDS = (Role.FIELD_DEF, Role.FIELD_REF)
_PARAMS = (Role.PARAM_DEF, Role.PARAM_REF)
UriOf = Callable[[str], str]


def _at(analysis: Analysis, position: lsp.Position) -> Occurrence | None:
    return analysis.index.at(analysis.file, analysis.positions().cursor(position))


def _location(analysis: Analysis, span: Span, uri_of: UriOf) -> lsp.Location:
    return lsp.Location(uri_of(span.file), analysis.positions(span.file).range(span))


def definition(analysis: Analysis, position: lsp.Position, uri_of: UriOf) -> list[lsp.Location]:
    found = _at(analysis, position)
    if found is None or found.target is None:
        return []
    if found.role not in (*_SYMBOLS, *_FIELDS, *_PARAMS, Role.MEMBER):
        return []
    return [_location(analysis, found.target, uri_of)]


def _matches(found: Occurrence, analysis: Analysis) -> Callable[[Occurrence], bool]:
    """Whether another occurrence names the same declaration, field or parameter."""
    target = found.target
    if found.role in _FIELDS and target is not None:
        group = analysis.index.field_group(target)
        return lambda o: o.role in _FIELDS and o.target in group
    if found.role in _SYMBOLS:
        return lambda o: o.role in _SYMBOLS and o.name == found.name and o.target is not None
    if found.role in _PARAMS:
        return lambda o: o.role in _PARAMS and o.target == target
    return lambda o: False


def _occurrences(
    analysis: Analysis, found: Occurrence, others: Iterable[Analysis]
) -> list[Occurrence]:
    """Every occurrence of what `found` names, in this unit and in other open documents'
    units that see the same declaration (files importing the one it is declared in)."""
    same = _matches(found, analysis)
    seen: set[tuple[Span, Role]] = set()
    out: list[Occurrence] = []
    home = found.target.file if found.target is not None else analysis.file
    for each in (analysis, *others):
        if each is not analysis and home not in each.result.unit.modules:
            continue
        for o in each.index.all():
            if same(o) and (o.span, o.role) not in seen:
                seen.add((o.span, o.role))
                out.append(o)
    return out


def references(
    analysis: Analysis,
    position: lsp.Position,
    include_declaration: bool,
    uri_of: UriOf,
    others: Iterable[Analysis] = (),
) -> list[lsp.Location]:
    found = _at(analysis, position)
    if found is None or found.role not in (*_SYMBOLS, *_FIELDS, *_PARAMS):
        return []
    declarations = (Role.DECL, Role.FIELD_DEF, Role.PARAM_DEF)
    return [
        _location(_owner(analysis, others, o.span.file), o.span, uri_of)
        for o in sorted(_occurrences(analysis, found, others), key=_order)
        if include_declaration or o.role not in declarations
    ]


def _order(o: Occurrence) -> tuple[str, int, int]:
    return (o.span.file, o.span.line, o.span.column)


def _owner(analysis: Analysis, others: Iterable[Analysis], file: str) -> Analysis:
    """An analysis whose unit holds `file`, for its text (to convert positions)."""
    if file in analysis.result.unit.modules:
        return analysis
    return next((a for a in others if file in a.result.unit.modules), analysis)


def _renamable(analysis: Analysis, found: Occurrence | None) -> Occurrence | None:
    if found is None or found.target is None:
        return None
    if found.role in _SYMBOLS or found.role in _PARAMS:
        return found
    if found.role in _FIELDS:
        origin = analysis.index.origins.get(found.target)
        if origin is not None and origin.step in ("generate", "bucket"):
            return None  # made by a setting or by the step itself: no name to change
        return found
    return None


def prepare_rename(
    analysis: Analysis, position: lsp.Position
) -> lsp.PrepareRenamePlaceholder | None:
    found = _renamable(analysis, _at(analysis, position))
    if found is None:
        return None
    return lsp.PrepareRenamePlaceholder(analysis.positions().range(found.span), found.name)


def rename(
    analysis: Analysis,
    position: lsp.Position,
    new_name: str,
    uri_of: UriOf,
    others: Iterable[Analysis] = (),
) -> lsp.WorkspaceEdit | None:
    """The edits renaming the thing under the cursor everywhere it is named.

    Refused (an error the editor shows) while a file of the unit has syntax errors, since
    names inside the declarations that do not parse cannot be seen, and for a new name
    that is not a name or that is taken.
    """
    found = _renamable(analysis, _at(analysis, position))
    if found is None:
        return None
    if not new_name.isidentifier() or new_name in KEYWORDS or keyword.iskeyword(new_name):
        raise JsonRpcException(f"`{new_name}` is not a valid name", REQUEST_FAILED)
    if any(d.code.startswith("E00") for d in analysis.result.diagnostics):
        raise JsonRpcException(
            "fix the syntax errors first: names inside declarations that do not parse "
            "cannot be renamed",
            REQUEST_FAILED,
        )
    _check_free(analysis, found, new_name)
    changes: dict[str, list[lsp.TextEdit]] = {}
    for o in _occurrences(analysis, found, others):
        owner = _owner(analysis, others, o.span.file)
        edit = lsp.TextEdit(owner.positions(o.span.file).range(o.span), new_name)
        changes.setdefault(uri_of(o.span.file), []).append(edit)
    return lsp.WorkspaceEdit(changes=changes)


def _check_free(analysis: Analysis, found: Occurrence, new_name: str) -> None:
    symbols = analysis.result.symbols
    if found.role in _SYMBOLS and symbols is not None and new_name in symbols.by_name:
        kind = KIND_NAMES.get(type(symbols.by_name[new_name].decl), "declaration")
        raise JsonRpcException(f"`{new_name}` is already declared ({kind})", REQUEST_FAILED)
    if found.role in _FIELDS and found.target is not None:
        for info in analysis.result.pipelines.values():
            for record in (info.input, *info.after_step):
                names = {f.span: n for n, f in record.fields.items()}
                if found.target in names and new_name in record.fields:
                    raise JsonRpcException(
                        f"`{new_name}` is already a field of `{info.name}`", REQUEST_FAILED
                    )
