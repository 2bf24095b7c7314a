"""Output paths checked before any work starts: never an input, the right suffix, a writable folder.

A command calls :func:`check_outputs` once, first thing, with every file it reads and every
file it will write. It raises InputError naming the option and the path, so a wrong ``-o``
costs nothing: no input is overwritten, and a read-only folder is found before a long
optimisation rather than after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from motionprog.errors import InputError

OutputSpec = tuple[str | os.PathLike | None, Sequence[str]]
"""An output path (None: not requested) and the suffixes it may have (lower case, with the dot)."""


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same resolved path (symbolic links followed),
    or, when both exist, the same inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def writable_folder(path: Path) -> Path | None:
    """The folder that must take ``path``'s new file when it is not writable, else None.

    Folders that do not exist yet are created by the atomic writers, so the nearest existing
    ancestor is the one that must accept new entries.
    """
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return folder
    return None


def check_output(option: str, path: Path, suffixes: Sequence[str], inputs: Sequence[Path]) -> None:
    """One output: suffix, not an input, not a folder, its folder writable; InputError otherwise."""
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: unknown output extension {path.suffix!r} (use {', '.join(suffixes)})")
    clash = next((source for source in inputs if same_file(path, source)), None)
    if clash is not None:
        raise InputError(f"{option} {path}: this file is an input of the command ({clash}); refusing to overwrite it")
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder, expected a file")
    folder = writable_folder(path)
    if folder is not None:
        raise InputError(f"{option} {path}: cannot write into {folder} (not a writable folder)")


def check_outputs(inputs: Iterable[str | os.PathLike | None], outputs: Mapping[str, OutputSpec]) -> None:
    """Refuse a command's outputs before it does any work.

    inputs:  every file the command reads (None entries are skipped).
    outputs: option name (for the message, e.g. ``"--out"``) -> (path or None, allowed suffixes;
             an empty sequence allows any suffix).
    Raises InputError when an output is an input (also through links), two outputs are one
    file, a suffix is not allowed, an output is a folder, or its folder cannot be written.
    """
    sources = [Path(p) for p in inputs if p is not None]
    chosen: list[tuple[str, Path]] = []
    for option, (path, suffixes) in outputs.items():
        if path is None:
            continue
        target = Path(path)
        check_output(option, target, tuple(s.lower() for s in suffixes), sources)
        twin = next(((other, earlier) for other, earlier in chosen if same_file(target, earlier)), None)
        if twin is not None:
            raise InputError(f"{option} {target}: the same file as {twin[0]} ({twin[1]}); give each output its own path")
        chosen.append((option, target))


def check_output_folder(folder: str | os.PathLike, inputs: Iterable[str | os.PathLike], files: Iterable[Path]) -> None:
    """An output folder of many files (a batch): writable or creatable, and none of ``files``
    (the paths that will be written in it) one of ``inputs``. Raises InputError."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"output folder {folder}: is a file, expected a folder")
    blocked = writable_folder(folder / "probe")
    if blocked is not None:
        raise InputError(f"output folder {folder}: cannot write into {blocked} (not a writable folder)")
    sources = {Path(source).resolve() for source in inputs if Path(source).exists()}
    clash = next((path for path in files if path.resolve() in sources), None)
    if clash is not None:
        raise InputError(f"output folder {folder}: would overwrite {clash}, an input of the batch")
