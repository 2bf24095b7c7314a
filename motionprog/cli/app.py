"""The `motionprog` command: the typer app and the one place that turns errors into exit codes.

Each area of the CLI lives in its own module here and adds its commands with ``register(app)``.
Exit status: 0 success, 2 bad input (a one-line message on stderr, no traceback),
3 a valid program that the optimizer could not satisfy, 128 + N when stopped by signal N
(SIGINT, SIGTERM, SIGHUP: temporary files are removed first).
"""

from __future__ import annotations

import signal
import sys

import typer
from rich.console import Console

from motionprog.cli.terminal import one_line
from motionprog.errors import MotionprogError

app = typer.Typer(
    name="motionprog",
    help="Programmable human-motion generation: write constraints, get natural motion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

stderr = Console(stderr=True, highlight=False, soft_wrap=True)

# Command modules register on the app, one pair of lines per module.
from motionprog.cli import convert  # noqa: E402

convert.register(app)
from motionprog.cli import sample  # noqa: E402
sample.register(app)
from motionprog.cli import render  # noqa: E402
render.register(app)
from motionprog.cli import run  # noqa: E402
run.register(app)
from motionprog.cli import bench  # noqa: E402
bench.register(app)
from motionprog.cli import train  # noqa: E402
train.register(app)
from motionprog.cli import lang  # noqa: E402
lang.register(app)
from motionprog.cli import prompt  # noqa: E402
prompt.register(app)
from motionprog.cli import batch  # noqa: E402
batch.register(app)
from motionprog.cli import blender  # noqa: E402
blender.register(app)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals turned into an orderly exit, so every ``finally`` (temporary files) runs."""


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the console script."""
    for stop in STOP_SIGNALS:
        signal.signal(stop, _exit_on_signal)
    try:
        app()
    except MotionprogError as exc:
        stderr.print(f"error: {one_line(str(exc))}", markup=False)
        sys.exit(2)
    except OSError as exc:  # a full disk, a folder that became read-only mid-run
        where = f"{exc.filename}: " if exc.filename else ""
        stderr.print(f"error: {one_line(where + (exc.strerror or str(exc)))}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        stderr.print("interrupted", markup=False)
        sys.exit(128 + signal.SIGINT)
