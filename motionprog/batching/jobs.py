"""Batch jobs: what to run (from a directory or a JSONL manifest), how one job runs, where it lands.

A job is one program optimised once. JOBS is either

- a directory: every ``*.mprog`` file in it (sorted), named by its stem; or
- a JSONL manifest: one JSON object per line (blank lines and lines starting with ``#`` are
  skipped) with ``"program"`` (a path, relative to the manifest's folder) or ``"source"``
  (inline program text), and optionally ``"name"``, ``"seeds"`` and ``"overrides"`` (fields of
  :class:`motionprog.optimize.OptimizeConfig`, e.g. ``{"iterations": 300, "seed": 7}``).

Job ``NAME`` writes ``OUTDIR/NAME.npz`` (the motion, report inside) and
``OUTDIR/reports/NAME.json`` (the report), each atomically; a job is done when both exist. A
failed job writes ``OUTDIR/errors/NAME.json`` instead and is retried by the next run. Each kind
of file has its own folder, so no two jobs' files can share a name (job ``a.error`` and job
``a`` could, were the error file ``OUTDIR/a.error.json``).

A worker runs :func:`execute` (it returns a picklable :class:`JobResult`, nothing is written
there); the driver writes the files with :func:`record`, so on a cluster every output lands
on the machine that started the batch.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from motionprog.errors import InputError, MotionprogError
from motionprog.io.atomic import write_text
from motionprog.motion import Motion, save_npz
from motionprog.optimize.config import OptimizeConfig

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""Job names are file stems: letters, digits, ``_ . -``, not starting with a dot."""

MANIFEST_KEYS = {"name", "program", "source", "seeds", "overrides"}
OVERRIDABLE = {f.name for f in fields(OptimizeConfig)} - {"device", "seeds"}
"""Config fields a manifest may override per job (the executor picks the device; ``seeds`` is a key of its own)."""


@dataclass(frozen=True)
class Job:
    """One program to optimise.

    name:      the output file stem (unique within a batch).
    source:    the program text.
    filename:  where the text came from, for diagnostics (``manifest.jsonl#LINE`` for inline source).
    seeds:     seeds optimised together (None: the config's, else the program's).
    overrides: OptimizeConfig fields for this job only.
    allow_paths: directories outside the program's own that its imports and meshes may read.
    """

    name: str
    source: str
    filename: str | None = None
    seeds: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    allow_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobResult:
    """What a worker sends back: the motion and report of a job, or its error (one line) and detail (diagnostics or traceback)."""

    name: str
    motion: Motion | None
    report: dict[str, Any] | None
    error: str | None
    detail: str | None
    time_s: float


@dataclass(frozen=True)
class JobOutcome:
    """One job's fate in a batch run: ``status`` is done, failed or skipped (done by an earlier run)."""

    name: str
    status: Literal["done", "failed", "skipped"]
    satisfied: bool | None
    error: str | None
    time_s: float


REPORTS = "reports"
"""Subfolder of OUTDIR holding each done job's report, ``NAME.json``."""
ERRORS = "errors"
"""Subfolder of OUTDIR holding each failed job's error, ``NAME.json``."""


def outputs(outdir: str | os.PathLike, name: str) -> tuple[Path, Path, Path]:
    """The files of job ``name``: (motion ``.npz``, report ``.json``, error ``.json``), one folder each."""
    base = Path(outdir)
    return base / f"{name}.npz", base / REPORTS / f"{name}.json", base / ERRORS / f"{name}.json"


def is_done(outdir: str | os.PathLike, name: str) -> bool:
    """Whether job ``name`` finished in an earlier run: both its ``.npz`` and ``.json`` exist."""
    motion, report, _ = outputs(outdir, name)
    return motion.is_file() and report.is_file()


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InputError(f"{where}: job name {name!r} must use letters, digits, '_', '.' or '-'")
    return name


def _manifest_job(entry: Any, manifest: Path, line: int) -> Job:
    where = _where(manifest, line)
    if not isinstance(entry, dict):
        raise InputError(f"{where}: each line must be a JSON object")
    unknown = sorted(set(entry) - MANIFEST_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key '{unknown[0]}' (use {', '.join(sorted(MANIFEST_KEYS))})")
    if ("program" in entry) == ("source" in entry):
        raise InputError(f"{where}: give exactly one of 'program' (a path) or 'source' (program text)")
    if "program" in entry:
        path = manifest.parent / str(entry["program"])
        if not path.is_file():
            raise InputError(f"{where}: program file {path} does not exist")
        source, filename, default_name = path.read_text(encoding="utf-8"), str(path), path.stem
    else:
        source, filename, default_name = str(entry["source"]), f"{manifest.name}#{line}", f"job{line:04d}"
    seeds = entry.get("seeds")
    if seeds is not None and (not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1):
        raise InputError(f"{where}: seeds must be a positive integer, got {seeds!r}")
    overrides = entry.get("overrides", {})
    if not isinstance(overrides, dict):
        raise InputError(f"{where}: overrides must be a JSON object")
    bad = sorted(set(overrides) - OVERRIDABLE)
    if bad:
        raise InputError(f"{where}: cannot override '{bad[0]}' (overridable: {', '.join(sorted(OVERRIDABLE))})")
    try:
        replace(OptimizeConfig(), **overrides)
    except (InputError, TypeError) as exc:
        raise InputError(f"{where}: bad overrides ({exc})") from exc
    name = _check_name(entry.get("name", default_name), where)
    return Job(name=name, source=source, filename=filename, seeds=seeds, overrides=dict(overrides))


def read_manifest(path: Path) -> tuple[Job, ...]:
    """The jobs of a JSONL manifest, in file order; raises InputError naming ``file:line``."""
    jobs = []
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{_where(path, line)}: not valid JSON ({exc.msg})") from exc
        jobs.append(_manifest_job(entry, path, line))
    return tuple(jobs)


def read_programs(paths: Sequence[Path]) -> tuple[Job, ...]:
    """One job per ``.mprog`` file, named by the file's stem."""
    return tuple(
        Job(name=_check_name(file.stem, str(file)), source=file.read_text(encoding="utf-8"), filename=str(file))
        for file in paths
    )


def read_directory(path: Path) -> tuple[Job, ...]:
    """One job per ``*.mprog`` file in ``path``, sorted by name."""
    return read_programs(sorted(path.glob("*.mprog")))


def load_jobs(jobs: str | os.PathLike) -> tuple[Job, ...]:
    """The jobs of JOBS (a directory of ``.mprog`` files or a ``.jsonl`` manifest).

    Raises InputError when JOBS is missing, empty, malformed or names a job twice.
    """
    path = Path(jobs)
    if path.is_dir():
        found = read_directory(path)
    elif path.is_file():
        found = read_manifest(path)
    else:
        raise InputError(f"{path}: no such directory or manifest")
    if not found:
        raise InputError(f"{path}: no jobs (a directory needs .mprog files, a manifest JSON lines)")
    return check_unique(found, str(path))


def check_unique(jobs: tuple[Job, ...], where: str) -> tuple[Job, ...]:
    """``jobs`` unchanged; raises InputError when two share a name, letter case aside (they would
    share output files, on a case-insensitive file system too)."""
    seen: dict[str, str] = {}
    for job in jobs:
        name = _check_name(job.name, where)
        if name.casefold() in seen:
            twice = "appears twice" if seen[name.casefold()] == name else f"and '{seen[name.casefold()]}' differ only in case"
            raise InputError(f"{where}: job name '{name}' {twice}")
        seen[name.casefold()] = name
    return jobs


def job_config(job: Job, base: OptimizeConfig, device: str) -> OptimizeConfig:
    """``base`` with the job's overrides and seeds, on ``device``."""
    config = replace(base, **job.overrides, device=device)
    return replace(config, seeds=job.seeds) if job.seeds is not None else config


def execute(job: Job, model: Any, base: OptimizeConfig, device: str) -> JobResult:
    """Compile and optimise ``job`` on ``model``; any error becomes the result's ``error`` (the batch goes on)."""
    from motionprog.lang.program import compile as compile_program
    from motionprog.optimize.generate import generate

    start = time.perf_counter()
    try:
        program = compile_program(job.source, filename=job.filename, allow_paths=job.allow_paths)
        result = generate(program, model=model, config=job_config(job, base, device))
    except Exception as exc:  # noqa: BLE001 - a failed job is recorded and the batch goes on
        return JobResult(job.name, None, None, error_line(exc), error_detail(exc), time.perf_counter() - start)
    return JobResult(job.name, result.motion, result.report, None, None, time.perf_counter() - start)


def error_line(exc: BaseException) -> str:
    """One line naming what went wrong (a program error reads ``file:line:col: message``)."""
    text = str(exc) if isinstance(exc, MotionprogError) else f"{type(exc).__name__}: {exc}"
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def error_detail(exc: BaseException) -> str:
    """Every diagnostic of a program error, rendered with its source line and caret; else the traceback."""
    from motionprog.lang.diagnostics import render_text

    diagnostics = getattr(exc, "diagnostics", ())
    if diagnostics:
        return "\n".join(render_text(d) for d in diagnostics)
    return "".join(traceback.format_exception(exc))


def record(result: JobResult, outdir: str | os.PathLike) -> JobOutcome:
    """Write a job's files atomically: ``.npz`` then ``.json`` on success (removing an old
    ``.error.json``), else ``.error.json`` with the error and its detail."""
    motion_path, report_path, error_path = outputs(outdir, result.name)
    if result.error is not None or result.motion is None or result.report is None:
        payload = {"job": result.name, "error": result.error, "detail": result.detail, "time_s": result.time_s}
        write_text(error_path, json.dumps(payload, indent=2))
        return JobOutcome(result.name, "failed", None, result.error, result.time_s)
    save_npz(result.motion, motion_path)
    write_text(report_path, json.dumps(result.report, indent=2))
    error_path.unlink(missing_ok=True)
    return JobOutcome(result.name, "done", bool(result.report["satisfied"]), None, result.time_s)


@dataclass(frozen=True)
class ModelSpec:
    """How every worker loads its own copy of the model.

    spec:         'bundled', 'mdm:DIR', or a bundled-architecture ``.safetensors`` file
                  (as `motionprog train` writes).
    stats:        HumanML3D Mean/Std directory (mdm only).
    text_encoder: 'clip:PATH' or 'none' (mdm only).
    """

    spec: str = "bundled"
    stats: str | None = None
    text_encoder: str | None = None

    def load(self, device: str) -> Any:
        """The model on ``device`` ("auto", "cpu", "cuda" or "cuda:N"); raises InputError."""
        from motionprog.models.registry import load_model

        return load_model(self.spec, stats=self.stats, text_encoder=self.text_encoder, device=device)
