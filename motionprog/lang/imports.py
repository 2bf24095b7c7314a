"""Which files a program may read, and how imports join it (the checker's imports room).

The policy is docs/security.md, "Programs".

A program reads its imports and its mesh files. Both must lie inside the program's own
directory (the directory of the program file; the current directory for text without a file),
inside the standard library, or inside a directory the caller allows (``allow_paths``). Device
files, ``/proc``, ``/sys`` and ``/dev`` are never read, whatever the allow-list says. A file
that fails to parse is quoted in diagnostics only when its name ends in ``.mprog``: anything
else (``/etc/shadow``) is reported by position alone, so no secret leaves through an error.
"""

from __future__ import annotations

import importlib.resources
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from motionprog.lang import ast
from motionprog.lang.diagnostics import Diagnostic, error
from motionprog.lang.parser import MAX_BYTES, parse
from motionprog.lang.typed import Abandon

if TYPE_CHECKING:
    from motionprog.lang.checker import Checker

NEVER_READ = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Directories no program reads, even when allowed."""
STDLIB_PREFIX = "<stdlib>/"
"""How standard library files are named in spans and diagnostics."""


def program_directory(file: str) -> Path:
    """The directory a program's relative paths start from (the current one for bare text)."""
    return Path(file).parent if file and not file.startswith("<") else Path.cwd()


def allowed_roots(file: str, allow_paths: Iterable[str | os.PathLike] = ()) -> tuple[Path, ...]:
    """The resolved directories a program may read below: its own and the allowed ones."""
    return tuple(Path(p).resolve() for p in (program_directory(file), *allow_paths))


def refusal(path: Path, roots: tuple[Path, ...]) -> str | None:
    """Why ``path`` may not be read (None when it may): outside the roots, a device, too large."""
    resolved = path.resolve()
    if any(resolved == banned or banned in resolved.parents for banned in NEVER_READ):
        return f"{path} is a system file; programs never read /proc, /sys or /dev"
    if not any(resolved == root or root in resolved.parents for root in roots):
        return (f"{path} is outside the program's directory; pass its directory in allow_paths "
                "(--allow-path) to read it")
    try:
        status = resolved.stat()
    except OSError:
        return f"cannot find {path}"
    if not stat.S_ISREG(status.st_mode):
        return f"{path} is not a regular file"
    if status.st_size > MAX_BYTES:
        return f"{path} is too large ({status.st_size / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB)"
    return None


def read_text_file(path: Path) -> tuple[str | None, str | None]:
    """(text, None) or (None, why not): UTF-8 text without NUL bytes, never its content in the reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or 'read error'}"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, f"{path} is not UTF-8 text"


def locate_import(name: str, importer: str, roots: tuple[Path, ...]) -> tuple[str | None, str, str | None]:
    """(text, where, problem) of ``import "name"`` written in file ``importer``.

    A plain name is a standard library module, else ``name.mprog`` next to the importer; a name
    with ``/`` or ending in ``.mprog`` is a path relative to the importer, and must end in ``.mprog``.
    """
    plain = not (name.endswith(".mprog") or "/" in name)
    if plain:
        resource = importlib.resources.files("motionprog.constraints") / f"{name}.mprog"
        if resource.is_file():
            return resource.read_text(encoding="utf-8"), f"{STDLIB_PREFIX}{name}.mprog", None
    elif not name.endswith(".mprog"):
        return None, name, f"cannot import '{name}': an import names a standard library module or a .mprog file"
    path = program_directory(importer) / (f"{name}.mprog" if plain else name)
    problem = refusal(path, roots)
    if problem and problem.startswith("cannot find"):
        problem = f"cannot find '{name}' in {'the standard library or ' if plain else ''}{path}"
    if problem:
        return None, str(path), problem
    text, problem = read_text_file(path)
    return text, str(path.resolve()), problem


def quotable(file: str) -> bool:
    """Whether diagnostics may quote a file that failed to parse: program text and .mprog files."""
    return file.startswith("<") or Path(file).resolve().suffix == ".mprog"


def parse_file(text: str, file: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse a file's text; the diagnostics of a file that is neither a program nor a ``.mprog``
    file are reduced to its name and the error's position."""
    module, diagnostics = parse(text, file)
    if module is None and not quotable(file):
        diagnostics = unquoted(diagnostics, file)
    return module, diagnostics


def unquoted(diagnostics: list[Diagnostic], file: str) -> list[Diagnostic]:
    """Parse diagnostics of a file that is not a program: position only, no text from the file."""
    located = [d for d in diagnostics if d.span is not None]
    where = f" (syntax error at line {located[0].span.line}, column {located[0].span.column})" if located else ""
    return [error("E102", f"{file} is not a motionprog program{where}", None)]


def load(c: Checker, statement: ast.Import, importer: str) -> None:
    """Check ``import "name"``: its ``def``s, ``let``s and imports join the program, once per file."""
    text, where, problem = locate_import(statement.path, importer, c.roots)
    if problem:
        raise c.fail("E209", problem, statement.span)
    if where in c.loading:
        raise c.fail("E209", f"import cycle: {' -> '.join([*c.loading, where])}", statement.span)
    if where in c.loaded:
        return
    module, diagnostics = parse_file(text, where)
    c.diagnostics.extend(diagnostics)
    if module is None:
        raise Abandon()
    c.loading.append(where)
    try:
        for inner in module.statements:
            if not isinstance(inner, (ast.Import, ast.Let, ast.Def)):
                c.diagnostics.append(error("E209", "an imported file may only contain import, let and def",
                                           inner.span))
        c.definitions(module)
        for inner in module.statements:
            if isinstance(inner, ast.Let):
                c.attempt(c.let, inner)
    finally:
        c.loading.pop()
    c.loaded.add(where)
