"""Drive the user's ``motionprog`` as a subprocess (``motionprog blender-job``); no bpy here.

Blender's Python cannot be relied on to import torch, so the add-on never imports motionprog:
it writes a job folder, starts the engine, and reads one JSON object per line from its stdout
on a background thread, so Blender's UI thread only ever polls a queue.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

EXIT_MESSAGES = {2: "the program or the job is not valid", 3: "the result does not satisfy every hard constraint"}


class EngineError(Exception):
    """A problem to show in the panel as one readable line."""


def find_engine(configured: str) -> str:
    """The motionprog executable: the configured path, else ``motionprog`` on PATH."""
    candidate = configured.strip() or "motionprog"
    found = shutil.which(os.path.expanduser(candidate))
    if found is None:
        raise EngineError(f"motionprog engine not found ({candidate!r}): install motionprog or set its path "
                          "in Edit > Preferences > Add-ons > motionprog")
    return found


def new_job_folder() -> Path:
    """A fresh temporary folder for one job's files."""
    return Path(tempfile.mkdtemp(prefix="motionprog_blender_"))


class Job:
    """One running ``motionprog blender-job``: its JSON records arrive in ``records``."""

    def __init__(self, engine: str, folder: Path, description: dict, flags: tuple[str, ...] = ()):
        self.folder = folder
        (folder / "job.json").write_text(json.dumps(description), encoding="utf-8")
        self.records: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        self.cancelled = False
        self.process = subprocess.Popen(
            [engine, "blender-job", str(folder / "job.json"), *flags], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
        self.readers = [threading.Thread(target=self._read_records, daemon=True),
                        threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self.readers:
            reader.start()

    def _read_records(self) -> None:
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a stray print from a library; not part of the protocol
            if isinstance(record, dict):
                self.records.put(record)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line.rstrip("\n"))

    def drain(self) -> list[dict]:
        """The records received since the last call (never blocks)."""
        records = []
        while True:
            try:
                records.append(self.records.get_nowait())
            except queue.Empty:
                return records

    def finished(self) -> bool:
        """Whether the process ended and all its output was read."""
        return self.process.poll() is not None and not any(r.is_alive() for r in self.readers)

    def wait(self) -> int:
        """Block until the process ends; its exit status."""
        status = self.process.wait()
        for reader in self.readers:
            reader.join()
        return status

    def cancel(self) -> None:
        """Stop the engine (SIGTERM lets it clean up; SIGKILL after 5 s)."""
        self.cancelled = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def failure(self) -> str | None:
        """A readable line when the engine did not succeed, else None."""
        status = self.process.returncode
        if self.cancelled:
            return "cancelled"
        if status == 0:
            return None
        last = next((line.strip() for line in reversed(self.stderr) if line.strip()), "").removeprefix("error: ")
        meaning = EXIT_MESSAGES.get(status, f"the engine stopped (exit status {status})")
        return f"{meaning}: {last}" if last and status != 3 else meaning  # after exit 3, stderr holds notes


def run_to_end(engine: str, folder: Path, description: dict, flags: tuple[str, ...]) -> tuple[Job, list[dict]]:
    """Run a short job (check, starter) to its end; the job and all its records."""
    job = Job(engine, folder, description, flags)
    job.wait()
    return job, job.drain()


PROMPT_TIMEOUT_S = 600
"""The longest `motionprog prompt` may take (its own --timeout bounds each request)."""


def only_record(engine: str, folder: Path, description: dict, flags: tuple[str, ...]) -> dict:
    """The one record of a short job that must succeed; EngineError with its reason otherwise."""
    job, records = run_to_end(engine, folder, description, flags)
    if job.process.returncode != 0 or not records:
        raise EngineError(job.failure() or "the engine gave no answer")
    return records[0]


def ask_model(engine: str, folder: Path, description: dict, endpoint: tuple[str, ...]) -> str:
    """Constraint text for the description's prompt from ``motionprog prompt`` (the language
    model at ``endpoint``, the flags naming it), told to use the job's scene block."""
    scene = only_record(engine, folder, description, ("--scene-block",))["scene"]
    program = folder / "prompt.mprog"
    command = [engine, "prompt", "-o", str(program), *endpoint]
    if scene:
        (folder / "scene.mprog").write_text(scene + "\n", encoding="utf-8")
        command += ["--scene", str(folder / "scene.mprog")]
    command += ["--", description["prompt"]]  # a prompt starting with "-" is still the prompt
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8",
                              errors="replace", timeout=PROMPT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"motionprog prompt gave no program within {PROMPT_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "")
        raise EngineError(f"motionprog prompt failed: {last.removeprefix('error: ') or f'exit status {done.returncode}'}")
    return only_record(engine, folder, description, ("--constraints-of", str(program)))["constraints"]


def remove_folder(folder: Path) -> None:
    """Delete a job folder and what it holds."""
    shutil.rmtree(folder, ignore_errors=True)
