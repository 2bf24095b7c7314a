"""The language server (``motionprog lsp``): editors get the language's own diagnostics, names,
docs, explanations and formatting as the user types.

``outline`` reads a document once (parse, check, the names it defines and imports);
``features`` answers each request from an outline; ``server`` speaks LSP over stdio (pygls).
Data flows one way: the language's public functions -> outline -> features -> server. Nothing
here imports torch: a program is parsed and checked, never compiled.
"""
