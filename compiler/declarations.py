"""Constants, user functions and named types: resolved lazily, each once, cycles reported."""

from __future__ import annotations

from collections.abc import Iterator

from flowc.compiler.exprs import ERROR_TYPE, Env, ExprChecker, FnSignature, is_error
from flowc.compiler.scope import ExprTypes, Typed
from flowc.compiler.symbols import IMPORT_NOTE, Symbols
from flowc.dsl import ast
from flowc.dsl import types as t
from flowc.dsl.diagnostics import DiagnosticSink, Label
from flowc.dsl.suggest import did_you_mean


class Declarations:
    def __init__(self, symbols: Symbols, sink: DiagnosticSink) -> None:
        self.symbols = symbols
        self.sink = sink
        self._consts: dict[str, Typed] = {}
        self._types: dict[str, t.Type] = {}
        self._fns: dict[str, FnSignature] = {}
        self._active: list[str] = []
        self._checked_fns: set[str] = set()
        self._recursion_reported: set[frozenset[str]] = set()
        self.used: set[str] = set()  # constants, functions and types referred to
        self.types = ExprTypes()  # every expression's type, shared by all checkers

    # ---- constants ----

    def const_expr(self, name: str, file: str) -> ast.Expr | None:
        found = self.symbols.lookup(name, (ast.Const,), file)
        if found is None:
            return None
        assert isinstance(found.decl, ast.Const)
        self.used.add(name)  # read by a configuration block
        return found.decl.value

    def const_type(self, name: str, file: str) -> Typed | None:
        """The type of constant `name` as seen from `file`; marks it used."""
        typed = self.check_const(name, file)
        if typed is not None:
            self.used.add(name)
        return typed

    def check_const(self, name: str, file: str) -> Typed | None:
        found = self.symbols.lookup(name, (ast.Const,), file)
        if found is None:
            return None
        if name in self._consts:
            return self._consts[name]
        decl = found.decl
        assert isinstance(decl, ast.Const)
        if not self._enter(name, decl.name):
            return Typed(ERROR_TYPE)
        try:
            exprs = self.expr_checker(found.file)
            typed = exprs.check(decl.value, Env(constant=True))
            if decl.type is not None:
                want = self.resolve_type(decl.type, found.file)
                if not t.assignable(typed.type, want) and not is_error(typed.type):
                    self.sink.error(
                        "E201",
                        f"`{name}` is declared {want} but its value is {typed.type}",
                        decl.value.span,
                        f"this is {typed.type}",
                    )
                typed = Typed(want.nullable_(want.nullable or typed.type.nullable), typed.null)
        finally:
            self._active.pop()
        self._consts[name] = typed
        return typed

    # ---- functions ----

    def fn_signature(self, name: str, file: str) -> FnSignature | None:
        """The signature of function `name` as seen from `file`; marks it used."""
        signature = self._signature(name, file)
        if signature is not None:
            self.used.add(name)
        return signature

    def _signature(self, name: str, file: str) -> FnSignature | None:
        found = self.symbols.lookup(name, (ast.Fn,), file)
        if found is None:
            return None
        if name not in self._fns:
            decl = found.decl
            assert isinstance(decl, ast.Fn)
            params = tuple(
                (p.name.name, self.resolve_type(p.type, found.file)) for p in decl.params
            )
            result = self.resolve_type(decl.result, found.file)
            self._fns[name] = FnSignature(name, params, result, decl.name.span)
        return self._fns[name]

    def check_fn(self, decl: ast.Fn, file: str) -> None:
        name = decl.name.name
        if name in self._checked_fns:
            return
        self._checked_fns.add(name)
        signature = self._signature(name, file)
        if signature is None:
            return
        seen: set[str] = set()
        for param in decl.params:
            if param.name.name in seen:
                self.sink.error(
                    "E102", f"parameter `{param.name.name}` is declared twice", param.name.span, ""
                )
            seen.add(param.name.name)
        if self._check_recursion(decl, file):
            return
        typed = self.expr_checker(file).check(decl.body, Env(params=dict(signature.params)))
        want = signature.result
        if is_error(typed.type):
            return
        if not t.assignable(typed.type, want) or (
            typed.type.kind is t.Kind.JSON and want.kind is not t.Kind.JSON
        ):
            self.sink.error(
                "E201",
                f"`{name}` is declared to return {want}, but its body is {typed.type}",
                decl.body.span,
                f"this is {typed.type}",
                secondary=(Label(decl.result.span, "declared here"),),
            )
        elif typed.type.nullable and not want.nullable:
            labels = (Label(typed.null.span, typed.null.reason),) if typed.null else ()
            self.sink.error(
                "E202",
                f"`{name}` returns {want}, but its body may be null",
                decl.body.span,
                f"this is {typed.type}",
                secondary=labels,
                help=f"declare the result `{want}?`, or give a default with `??`",
            )

    def _check_recursion(self, decl: ast.Fn, file: str) -> bool:
        """Report a call cycle through `decl` once per cycle; True when there is one."""
        target = decl.name.name
        # Depth-first over calls, keeping the path, so the message names the whole cycle.
        stack: list[tuple[ast.Fn, list[str]]] = [(decl, [target])]
        visited: set[str] = set()
        while stack:
            current, path = stack.pop()
            for node in _walk(current.body):
                if not isinstance(node, ast.Call):
                    continue
                callee = node.func.name
                if callee == target:
                    self.used.update(path[1:])  # they are called, if only by each other
                    cycle = frozenset(path)
                    if cycle not in self._recursion_reported:
                        self._recursion_reported.add(cycle)
                        direct = current is decl
                        message = (
                            f"function `{target}` calls itself"
                            if direct
                            else "functions call each other: " + " -> ".join([*path, target])
                        )
                        self.sink.error(
                            "E114",
                            message,
                            node.func.span if direct else decl.name.span,
                            "recursive call" if direct else "part of the cycle",
                            help="functions are inlined where they are called, "
                            "so they cannot recurse",
                        )
                    return True
                found = self.symbols.lookup(callee, (ast.Fn,), file)
                if found is not None and callee not in visited:
                    visited.add(callee)
                    assert isinstance(found.decl, ast.Fn)
                    stack.append((found.decl, [*path, callee]))
        return False

    def expr_checker(self, file: str) -> ExprChecker:
        """An expression checker for code in `file`, resolving its constants and functions."""
        checker = ExprChecker(
            self.sink,
            const_type=lambda n: self.const_type(n, file),
            fn_signature=lambda n: self.fn_signature(n, file),
            # The constant being defined is not a suggestion for a typo inside itself.
            const_names=lambda: [
                n for n in self.symbols.names_of((ast.Const,), file) if n not in self._active
            ],
            fn_names=lambda: self.symbols.names_of((ast.Fn,), file),
            types=self.types,
        )
        checker.silenced = self.symbols.unit.broken_names
        checker.suggested = self.symbols.suggested
        if file in self.symbols.unit.failed_imports:
            checker.import_note = IMPORT_NOTE
        return checker

    # ---- types ----

    def named_type(self, name: str, file: str, ident: ast.Ident | None = None) -> t.Type | None:
        found = self.symbols.lookup(name, (ast.TypeDecl,), file)
        if found is None:
            if ident is not None:
                self.symbols.unknown(self.sink, "E107", ident, (ast.TypeDecl,), "type", file)
            return None
        if ident is not None:
            self.used.add(name)
        if name in self._types:
            return self._types[name]
        decl = found.decl
        assert isinstance(decl, ast.TypeDecl)
        if not self._enter(name, decl.name):
            return t.JSON
        try:
            fields: dict[str, t.Type] = {}
            for f in decl.fields:
                if f.name.name in fields:
                    self.sink.error(
                        "E109", f"field `{f.name.name}` is declared twice", f.name.span, ""
                    )
                    continue
                fields[f.name.name] = self.resolve_type(f.type, found.file)
        finally:
            self._active.pop()
        result = t.struct(fields, name=name)
        self._types[name] = result
        return result

    def resolve_type(self, node: ast.TypeExpr, file: str) -> t.Type:
        if isinstance(node, ast.StructType):
            fields: dict[str, t.Type] = {}
            for f in node.fields:
                if f.name.name in fields:
                    self.sink.error(
                        "E109", f"field `{f.name.name}` is declared twice", f.name.span, ""
                    )
                fields[f.name.name] = self.resolve_type(f.type, file)
            return t.struct(fields, nullable=node.nullable)
        name = node.name.name
        if name == "list":
            if len(node.args) != 1:
                self.sink.error("E107", "`list` takes one element type: `list<int>`", node.span, "")
                return t.list_of(t.JSON, node.nullable)
            return t.list_of(self.resolve_type(node.args[0], file), node.nullable)
        if node.args:
            self.sink.error("E107", f"`{name}` takes no type arguments", node.span, "")
        if name in t.SCALAR_NAMES:
            return t.Type(t.SCALAR_NAMES[name]).nullable_(node.nullable)
        if self.symbols.lookup(name, (ast.TypeDecl,), file) is None:
            self.sink.error(
                "E107",
                f"unknown type `{name}`",
                node.name.span,
                "not a type",
                help=did_you_mean(
                    name, [*t.SCALAR_NAMES, "list", *self.symbols.names_of((ast.TypeDecl,), file)]
                ),
            )
            return t.JSON
        self.used.add(name)
        named = self.named_type(name, file)
        return (named or t.JSON).nullable_(node.nullable)

    # ---- helpers ----

    def _enter(self, name: str, ident: ast.Ident) -> bool:
        if name in self._active:
            cycle = [*self._active[self._active.index(name) :], name]
            self.sink.error(
                "E114",
                "definition refers to itself: " + " -> ".join(cycle),
                ident.span,
                "part of the cycle",
                help="constants and types cannot be defined in terms of themselves",
            )
            return False
        self._active.append(name)
        return True


def _walk(expr: ast.Expr) -> Iterator[ast.Expr]:
    """Every sub-expression, depth first."""
    yield expr
    match expr:
        case ast.Call(args=args) | ast.ListExpr(items=args) | ast.TupleExpr(items=args):
            for arg in args:
                yield from _walk(arg)
        case ast.Unary(operand=operand):
            yield from _walk(operand)
        case ast.Binary(left=left, right=right):
            yield from _walk(left)
            yield from _walk(right)
        case ast.Between(value=value, low=low, high=high):
            yield from _walk(value)
            yield from _walk(low)
            yield from _walk(high)
        case ast.In(value=value, options=other) | ast.Matches(value=value, pattern=other):
            yield from _walk(value)
            yield from _walk(other)
        case ast.FieldAccess(value=value):
            yield from _walk(value)
        case ast.Index(value=value, index=index):
            yield from _walk(value)
            yield from _walk(index)
        case ast.If(condition=c, then=a, otherwise=b):
            yield from _walk(c)
            yield from _walk(a)
            yield from _walk(b)
        case ast.Match(value=value, arms=arms):
            yield from _walk(value)
            for arm in arms:
                yield from _walk(arm.result)
        case ast.RecordExpr(fields=fields):
            for f in fields:
                yield from _walk(f.value)
