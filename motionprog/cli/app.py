"""The `motionprog` command: the typer app and the one place that turns errors into exit codes.

Each area of the CLI lives in its own module here and adds its commands with ``register(app)``;
``COMMANDS`` names each command's module, imported only when that command runs, so ``check``,
``fmt``, ``explain``, ``lsp`` and ``--help`` start without torch.
Exit status: 0 success, 2 bad input (a one-line message on stderr, no traceback),
3 a valid program that the optimizer could not satisfy, 128 + N when stopped by signal N
(SIGINT, SIGTERM, SIGHUP: temporary files are removed first).
"""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from motionprog.cli.terminal import one_line
from motionprog.errors import MotionprogError

COMMANDS: dict[str, tuple[str, str]] = {
    "convert": ("convert", "Convert a motion file; MDM results with several motions give OUT_stem_000.ext, ... ."),
    "sample": ("sample", "Generate one motion for TEXT and write it to OUT (.npz with joints and features)."),
    "render": ("render", "Render motions offscreen to a video or an image."),
    "view": ("render", "Write an interactive HTML viewer (no network needed to open it); every value from a file "
                       "is escaped."),
    "plot": ("render", "Plot margins per constraint over the optimisation and per frame."),
    "run": ("run", "Generate a motion that satisfies PROGRAM_FILE; exit 0 if every hard constraint holds, 3 if not."),
    "edit": ("edit", "Edit a motion so that PROGRAM holds, keeping it elsewhere; exit 0 if satisfied, 3 if not."),
    "watch": ("watch", "Re-run PROGRAM_FILE on every save, warm-starting a small edit from the last result."),
    "bench": ("bench", "Run every example with both methods on the same model; write Markdown and JSON."),
    "train": ("train", "Train the bundled motion prior (resumable; the EMA weights are exported at each checkpoint)."),
    "distill": ("train", "Distil a bundled-architecture teacher into a one-step student (resumable)."),
    "check": ("lang", "Check programs: exit 0 when every file is valid, 2 otherwise (diagnostics on stderr)."),
    "fmt": ("lang", "Print a program in canonical form (or check / rewrite it in place)."),
    "explain": ("lang", "Each constraint in plain words, with its window, unit and weight."),
    "lsp": ("lsp", "Serve the Language Server Protocol on stdin/stdout for an editor (diagnostics, completion, hover, "
                   "...)."),
    "prompt": ("prompt", "Write a program for TEXT with a language model, check it, save it to OUT and explain it."),
    "prompt-eval": ("prompt_eval", "Run the evaluation set against the endpoint: valid programs, then satisfied ones."),
    "batch": ("batch", "Generate a motion per job into OUTDIR; finished jobs are skipped, failed ones recorded."),
    "blender-addon": ("blender", "Write the Blender add-on as an installable zip (Blender 3.x and 4.x)."),
    "blender-job": ("blender", "The engine side of the Blender add-on (JSON lines on stdout; see docs/blender.md)."),
}
"""Every command in ``--help`` order: name -> (its module under ``motionprog.cli``, the first line
of its help). A module is imported only when one of its commands runs (most import torch)."""


class LazyGroup(TyperGroup):
    """The command group: ``check``, ``fmt``, ``explain`` and ``lsp`` are registered up front (they
    import no torch); every other command's module loads on first use."""

    listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module, summary = COMMANDS[cmd_name]
        if self.listing:
            return TyperCommand(cmd_name, help=summary)
        commands = typer.Typer()
        importlib.import_module(f"motionprog.cli.{module}").register(commands)
        self.commands.update(typer.main.get_group(commands).commands)
        return self.commands[cmd_name]

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    name="motionprog",
    help="Programmable human-motion generation: write constraints, get natural motion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)

stderr = Console(stderr=True, highlight=False, soft_wrap=True)

# The light commands (no torch) register up front, so the app is a group of them; the rest load on use.
from motionprog.cli import lang, lsp  # noqa: E402

lang.register(app)
lsp.register(app)


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
