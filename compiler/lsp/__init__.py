"""The language server: the checker behind an editor, over LSP (pygls)."""
