"""`motionprog prompt`: words -> a checked program, optionally run (and the endpoint options
it shares with `motionprog prompt-eval`).

The only place that reads the endpoint from the environment: ``--base-url`` or
``OPENAI_BASE_URL``, and the key from the variable named by ``--api-key-env`` (default
``OPENAI_API_KEY``). The key is passed to the client and never printed or written.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.io.limits import check_file_size
from motionprog.io.outputs import check_outputs
from motionprog.cli.lang import explain
from motionprog.cli.terminal import one_line, printable
from motionprog.lang import render_text
from motionprog.llm.client import DEFAULT_MODEL, LLMConfig, configure
from motionprog.llm.modes import MODES, Session
from motionprog.llm.repair import MAX_ROUNDS, Attempt, NoValidProgram, synthesize

stderr = Console(stderr=True, highlight=False, soft_wrap=True)
stdout = Console(highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2


def endpoint(base_url: str | None, api_key_env: str, model: str, timeout: float, retries: int,
             max_tokens: int, first_timeout: float, temperature: float | None = None) -> LLMConfig:
    """The configured endpoint: flags first, then ``OPENAI_BASE_URL`` and ``$api_key_env``."""
    return configure(base_url or os.environ.get("OPENAI_BASE_URL"), os.environ.get(api_key_env) or None,
                     model=model, timeout_s=timeout, max_retries=retries, max_tokens=max_tokens,
                     first_timeout_s=first_timeout, temperature=temperature)


def report_wait(seconds: float) -> None:
    """A line on stderr while an answer is awaited, so a slow CPU server does not look hung."""
    stderr.print(f"waiting for the language model: {seconds:.0f} s", markup=False)


def report_modes(session: Session) -> None:
    """Which grammar modes the server rejected, and the one that ran."""
    for rejection in session.rejections:
        mode, reason = rejection.split(": ", 1)
        stderr.print(f"grammar mode {mode} rejected by the server ({one_line(reason)})", markup=False)
    stderr.print(f"grammar mode: {session.mode}", markup=False)


def run_defaults() -> dict[str, Any]:
    """The default of every option of `motionprog run`, so --run calls it exactly as the CLI would."""
    from motionprog.cli.run import run

    return {name: param.default.default for name, param in inspect.signature(run).parameters.items()
            if isinstance(param.default, typer.models.ParameterInfo)}


def report_attempt(attempt: Attempt) -> None:
    """One line per round on stderr: the grammar mode, then valid or how many errors were found."""
    errors = sum(d.level == "error" for d in attempt.diagnostics)
    how = "plain chat" if attempt.mode == "none" else f"{attempt.mode} grammar"
    stderr.print(f"round ({how}): " + ("valid program" if attempt.valid else f"{errors} error(s), asking for a repair"),
                 markup=False)


MAX_SCENE_BYTES = 1 << 20
"""Largest --scene file (1 MiB): its text is sent to the endpoint."""


def read_scene(path: Path) -> str:
    """The text of a --scene file; InputError when missing, too large or not UTF-8."""
    if not path.is_file():
        raise InputError(f"scene file not found: {path}")
    check_file_size(path, MAX_SCENE_BYTES)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


Model = Annotated[str, typer.Option("--model", help="Model name at the endpoint.")]
BaseUrl = Annotated[Optional[str], typer.Option(
    "--base-url", help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL, else the OpenAI API when a key is set).")]
ApiKeyEnv = Annotated[str, typer.Option("--api-key-env", help="Environment variable holding the API key "
                                                              "(a local server needs none).")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Total seconds one HTTP request may take "
                                                                   "(connect and every read).")]
FirstTimeout = Annotated[float, typer.Option(
    "--first-timeout", min=0.1, help="Total seconds of the first request, which may wait for a CPU server to load "
                                     "the model and read the prompt.")]
Retries = Annotated[int, typer.Option("--retries", min=0, max=8, help="Retries of a request on 429, 5xx and timeouts "
                                                                      "(backoff 0.5 s doubling, at most 8 s).")]
MaxTokens = Annotated[int, typer.Option("--max-tokens", min=64, help="Most tokens of one answer (sent as max_tokens "
                                                                     "and max_completion_tokens).")]
Temperature = Annotated[Optional[float], typer.Option(
    "--temperature", min=0, max=2, help="Sampling temperature (default: the server's own; 0 keeps a small local model "
                                        "closest to its examples; some hosted models accept no other value).")]
Grammar = Annotated[str, typer.Option(
    "--grammar", help="How the answer is held to the grammar: auto (ask the server, fall back on any rejection), tool "
                      "(OpenAI custom tool), gbnf (llama.cpp, SGLang), lark (vLLM structured outputs) or none.")]
"""The endpoint options `prompt` and `prompt-eval` share."""
GRAMMAR_CHOICES = ("auto", *MODES)


def check_grammar(grammar: str) -> str:
    """``--grammar``'s value, or InputError naming the choices."""
    if grammar not in GRAMMAR_CHOICES:
        raise InputError(f"--grammar must be one of {', '.join(GRAMMAR_CHOICES)}, got {grammar!r}")
    return grammar


def prompt(
    text: str = typer.Argument(..., help="The task in words."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the program (.mprog)."),
    scene: Optional[Path] = typer.Option(None, "--scene", help="A file with a `scene { ... }` block the program must use."),
    run_program: bool = typer.Option(False, "--run", help="Then run it like `motionprog run` (motion beside OUT, .npz)."),
    motion_model: Optional[str] = typer.Option(None, "--motion-model", help="With --run: the motion model (as run's --model)."),
    rounds: int = typer.Option(3, "--rounds", min=1, max=MAX_ROUNDS, help="Most candidates, repairs included."),
    model: Model = DEFAULT_MODEL, base_url: BaseUrl = None, api_key_env: ApiKeyEnv = "OPENAI_API_KEY",
    timeout: Timeout = 60.0, first_timeout: FirstTimeout = 900.0, retries: Retries = 2, max_tokens: MaxTokens = 512,
    grammar: Grammar = "auto", temperature: Temperature = None,
    allow_path: list[Path] = typer.Option(
        [], "--allow-path", help="A folder outside OUT's own that the program's imports and meshes may read (repeatable)."),
) -> None:
    """Write a program for TEXT with a language model, check it, save it to OUT and explain it."""
    check_outputs([scene], {"--out": (out, (".mprog",)), "--run": (out.with_suffix(".npz") if run_program else None, ())})
    config = endpoint(base_url, api_key_env, model, timeout, retries, max_tokens, first_timeout, temperature)
    scene_text = None if scene is None else read_scene(scene)
    session = Session(config, check_grammar(grammar), on_wait=report_wait)
    try:
        synthesis = synthesize(text, config, scene=scene_text, rounds=rounds, filename=str(out),
                               allow_paths=allow_path, session=session, on_attempt=report_attempt)
    except NoValidProgram as exc:
        for diagnostic in exc.attempts[-1].diagnostics:
            stderr.print(printable(render_text(diagnostic)), markup=False)
        stderr.print(f"error: {one_line(str(exc))}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    report_modes(session)
    write_text(out, synthesis.source.rstrip() + "\n")
    stdout.print(printable(synthesis.source.rstrip()) + "\n", markup=False)
    explain(out, allow_path=allow_path, edit=False)
    stdout.print(f"wrote {out}", markup=False)
    if run_program:
        from motionprog.cli.run import run

        run(**(run_defaults() | {"program_file": out, "out": out.with_suffix(".npz"), "model": motion_model,
                                 "allow_path": allow_path}))


def register(app: typer.Typer) -> None:
    """Add `motionprog prompt` to the app."""
    app.command("prompt")(prompt)
