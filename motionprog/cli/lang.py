"""`motionprog check`, `motionprog fmt`, `motionprog explain`: the language's commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from motionprog.cli.terminal import printable
from motionprog.io.atomic import write_text
from motionprog.lang.diagnostics import Diagnostic, has_errors, render_json, render_text
from motionprog.lang.explain import keep_words, prompt_words, relax_words
from motionprog.lang.formatter import format_module
from motionprog.lang.imports import parse_file
from motionprog.lang.program import ConstraintInfo, check_text, read_source

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2


def _show(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        stderr.print(render_text(diagnostic), markup=False)


def _load(path: Path) -> str:
    text, diagnostics = read_source(path)
    if text is None:
        _show(diagnostics)
        raise typer.Exit(EXIT_BAD_INPUT)
    return text


EDIT_HELP = "Check it as a program for 'motionprog edit' (input.x and keep allowed)."
ALLOW_PATH_HELP = ("A directory outside the program's own from which its imports and meshes may read "
                   "(repeatable); /proc, /sys and /dev are never read.")


def check(
    files: list[Path] = typer.Argument(..., help="Program files (.mprog) to check."),
    json_output: bool = typer.Option(False, "--json", help="Print diagnostics as JSON on stdout."),
    allow_path: list[Path] = typer.Option([], "--allow-path", help=ALLOW_PATH_HELP),
    edit: bool = typer.Option(False, "--edit", help=EDIT_HELP),
) -> None:
    """Check programs: exit 0 when every file is valid, 2 otherwise (diagnostics on stderr)."""
    failed = False
    collected: list[Diagnostic] = []
    for path in files:
        text, diagnostics = read_source(path)
        if text is not None:
            diagnostics = check_text(text, str(path), allow_paths=allow_path, editing=edit)[1]
        collected.extend(diagnostics)
        failed = failed or text is None or has_errors(diagnostics)
        if not json_output:
            _show(diagnostics)
            if not has_errors(diagnostics) and text is not None:
                stderr.print(f"{path}: ok", markup=False)
    if json_output:
        stdout.print(render_json(collected), markup=False)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def fmt(
    file: Path = typer.Argument(..., help="Program file (.mprog)."),
    check_only: bool = typer.Option(False, "--check", help="Exit 1 when the file is not in canonical form."),
    write: bool = typer.Option(False, "--write", help="Rewrite the file in canonical form."),
) -> None:
    """Print a program in canonical form (or check / rewrite it in place)."""
    text = _load(file)
    module, diagnostics = parse_file(text, str(file))
    if module is None:
        _show(diagnostics)
        raise typer.Exit(EXIT_BAD_INPUT)
    formatted = format_module(module)
    if check_only:
        if formatted != text:
            stderr.print(f"{file}: not in canonical form", markup=False)
            raise typer.Exit(1)
        return
    if write:
        if formatted != text:
            write_text(file, formatted)
        return
    stdout.out(formatted, end="", highlight=False)


def explain(
    file: Path = typer.Argument(..., help="Program file (.mprog)."),
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", help=ALLOW_PATH_HELP)] = None,
    edit: bool = typer.Option(False, "--edit", help=EDIT_HELP),
) -> None:
    """Each constraint in plain words, with its window, unit and weight."""
    text = _load(file)
    program, diagnostics = check_text(text, str(file), allow_paths=allow_path or (), editing=edit)
    _show(diagnostics)
    if program is None:
        raise typer.Exit(EXIT_BAD_INPUT)
    length = "the input's length" if edit else f"{program.frames} frames ({program.frames / program.fps:g} s)"
    header = f'{prompt_words(program)}, {length}, {program.seeds} seed(s)'
    if program.relax.yaw or program.relax.xz:
        header += f", relaxed: {relax_words(program.relax)}"
    if program.changes is not None:
        header += f", {keep_words(program.changes)}"
    stdout.print(printable(header), markup=False)
    for info in map(ConstraintInfo.of, program.constraints):
        kind = info.kind if info.kind == "objective" else ("hard" if info.hard else "soft") + " constraint"
        stdout.print(printable(f"- {info.name}  [{kind}, unit {info.unit}, weight {info.weight:g}, {info.source}]"),
                     markup=False)
        stdout.print(printable(f"    {info.description}"), markup=False)


def register(app: typer.Typer) -> None:
    """Add check, fmt and explain to the app."""
    app.command("check")(check)
    app.command("fmt")(fmt)
    app.command("explain")(explain)
