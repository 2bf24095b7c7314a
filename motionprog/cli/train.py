"""`motionprog train`: train the bundled denoiser on motion data, with checkpoints and resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from motionprog.models.distill import DistillConfig
from motionprog.models.training import TrainConfig

console = Console(highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `train` and `distill` commands to ``app``."""
    app.command("train")(train_command)
    app.command("distill")(distill_command)


def train_command(
    data: list[str] = typer.Argument(..., help="Training data: BVH files/folders, joint .npy folders, "
                                     "the MDM samples .npz, or the words 'cmu' and 'deepmimic'."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory (checkpoint.pt, bundled.safetensors, log.jsonl)."),
    steps: int = typer.Option(TrainConfig.steps, "--steps", help="Total optimisation steps."),
    batch: int = typer.Option(TrainConfig.frames_per_batch, "--batch",
                              help="Frames per batch (the number of windows is this / window length)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, "--seed", help="Seed of initialisation and data sampling."),
    mirror: bool = typer.Option(True, "--mirror/--no-mirror", help="Add left-right mirrored copies."),
    holdout_every: int = typer.Option(TrainConfig.holdout_every, "--holdout-every", help="Hold out every N-th motion for the held-out loss (0: none)."),
    export: Path | None = typer.Option(None, "--export", help="Also write the EMA weights here at each checkpoint."),
    threads: int = typer.Option(0, "--threads", help="CPU threads for torch (0: torch's default)."),
) -> None:
    """Train the bundled motion prior (resumable; the EMA weights are exported at each checkpoint)."""
    import torch

    from motionprog.errors import InputError
    from motionprog.io.datasets import load_training_motions
    from motionprog.models.training import TrainConfig, split_training_sets, train

    if threads > 0:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise InputError(f"--device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available")
    motions = load_training_motions(data)
    if not motions:
        raise InputError("the training data paths hold no motions")
    training, heldout = split_training_sets(motions, holdout_every, mirror)
    config = replace(TrainConfig(), steps=steps, frames_per_batch=batch, seed=seed, holdout_every=holdout_every)
    held = 0 if heldout is None else len(heldout.labels)
    console.print(f"{len(training.labels)} training motions ({training.minutes:.1f} min), {held} held out; "
                  f"device {device}")
    with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("train", total=steps, loss="-")

        def report(step: int, total: int, metrics: dict[str, float]) -> None:
            progress.update(task, completed=step, total=total, loss=f"{metrics['total']:.4f}")

        train(training, out, config, resume=resume, device=device, export=export, heldout=heldout,
              callback=report)
    console.print(f"wrote {out / 'bundled.safetensors'}")


def distill_command(
    teacher: Path = typer.Argument(None, help="Teacher weights (.safetensors of the bundled architecture; "
                                   "default: the shipped bundled prior)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory (pairs.pt, checkpoint.pt, "
                             "student.safetensors, log.jsonl)."),
    steps: int = typer.Option(DistillConfig.steps, "--steps", min=1, help="Optimisation steps of the student."),
    pairs: int = typer.Option(DistillConfig.pairs, "--pairs", min=64, help="Teacher samples to generate and learn from."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT (pairs and checkpoint)."),
    export: Path | None = typer.Option(None, "--export", help="Also write the EMA student here at each checkpoint."),
    seed: int = typer.Option(0, "--seed", help="Seed of the teacher samples and the batch order."),
    threads: int = typer.Option(0, "--threads", min=0, help="CPU threads for torch (0: torch's default)."),
) -> None:
    """Distil a bundled-architecture teacher into a one-step student (resumable).

    The student maps the DDIM start noise to the teacher's guided multi-step result in one
    network evaluation; `run` and `sample` optimise through it (docs/optimizer.md)."""
    import torch

    from motionprog.models.bundled import WEIGHTS_PATH, load_bundled
    from motionprog.models.distill import distill

    if threads > 0:
        torch.set_num_threads(threads)
    teacher_path = teacher or WEIGHTS_PATH
    model = load_bundled("cpu", path=teacher_path, student_path=None)
    labels = model.labels
    config = replace(DistillConfig(), steps=steps, pairs=pairs, seed=seed)
    console.print(f"teacher {teacher_path} ({len(labels)} labels); {config.pairs} teacher samples, {steps} steps")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("teacher samples", total=config.chunks, loss="-")

        def report(stage: str, done: int, total: int, metrics: dict[str, float]) -> None:
            loss = f"{metrics['total']:.4f}" if metrics else "-"
            description = "teacher samples" if stage == "teacher" else "student"
            progress.update(task, completed=done, total=total, description=description, loss=loss)

        distill(model, labels, out, config, resume=resume, export=export, callback=report)
    console.print(f"wrote {out / 'student.safetensors'}")
