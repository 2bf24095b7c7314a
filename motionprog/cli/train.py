"""`motionprog train`: train the bundled denoiser on motion data, with checkpoints and resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `train` command to ``app``."""
    app.command("train")(train_command)


def train_command(
    data: list[str] = typer.Argument(..., help="Training data: BVH files/folders, joint .npy folders, "
                                     "the MDM samples .npz, or the words 'cmu' and 'deepmimic'."),
    out: Path = typer.Option(..., "-o", "--out", help="Output directory (checkpoint.pt, bundled.safetensors, log.jsonl)."),
    steps: int = typer.Option(20000, "--steps", help="Total optimisation steps."),
    batch: int = typer.Option(4096, "--batch", help="Frames per batch (the number of windows is this / window length)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint.pt."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    seed: int = typer.Option(0, "--seed", help="Seed of initialisation and data sampling."),
    mirror: bool = typer.Option(True, "--mirror/--no-mirror", help="Add left-right mirrored copies."),
    holdout_every: int = typer.Option(10, "--holdout-every", help="Hold out every N-th motion for the held-out loss (0: none)."),
    export: Path | None = typer.Option(None, "--export", help="Also write the EMA weights here at each checkpoint."),
    threads: int = typer.Option(0, "--threads", help="CPU threads for torch (0: torch's default)."),
) -> None:
    """Train the bundled motion prior (resumable; the EMA weights are exported at each checkpoint)."""
    import torch

    from motionprog.errors import InputError
    from motionprog.io.datasets import load_training_motions
    from motionprog.io.datasets import mirror as mirror_motion
    from motionprog.models.training import TrainConfig, build_training_set, train

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
    held = [m for i, m in enumerate(motions) if holdout_every and i % holdout_every == holdout_every - 1]
    kept = [m for m in motions if all(m is not h for h in held)]
    if mirror:
        kept = kept + [mirror_motion(m) for m in kept]
    training = build_training_set([m.joints for m in kept], [m.text for m in kept])
    heldout = build_training_set([m.joints for m in held], [m.text for m in held],
                                 stats=(training.mean, training.std)) if held else None
    config = replace(TrainConfig(), steps=steps, frames_per_batch=batch, seed=seed, holdout_every=holdout_every)
    console.print(f"{len(kept)} training motions ({training.minutes:.1f} min), {len(held)} held out; "
                  f"device {device}")
    with Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("train", total=steps, loss="-")

        def report(step: int, total: int, metrics: dict[str, float]) -> None:
            progress.update(task, completed=step, total=total, loss=f"{metrics['total']:.4f}")

        train(training, out, config, resume=resume, device=device, export=export, heldout=heldout,
              callback=report)
    console.print(f"wrote {out / 'bundled.safetensors'}")
