"""`motionprog lsp`: the language server an editor starts (docs/editors.md)."""

from __future__ import annotations

import typer

from motionprog.errors import InputError


def lsp() -> None:
    """Serve the Language Server Protocol on stdin/stdout for an editor (diagnostics, completion, hover, ...)."""
    try:
        from motionprog.lsp.server import serve
    except ImportError as exc:
        raise InputError(f"the language server needs pygls ({exc}); pip install 'pygls>=2,<3'") from exc
    serve()


def register(app: typer.Typer) -> None:
    """Add lsp to the app."""
    app.command("lsp")(lsp)
