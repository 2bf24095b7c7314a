"""`motionprog lsp`: the language server an editor starts (docs/editors.md)."""

from __future__ import annotations

import typer


def lsp() -> None:
    """Serve the Language Server Protocol on stdin/stdout for an editor (diagnostics, completion, hover, ...)."""
    from motionprog.lsp.server import serve

    serve()


def register(app: typer.Typer) -> None:
    """Add lsp to the app."""
    app.command("lsp")(lsp)
