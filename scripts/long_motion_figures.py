"""The long-motion figures of docs/benchmarks.md: the 30 s example and plain walks of 10, 20
and 40 s with waypoints at both ends, on one CPU thread with the bundled model.

    for what in example 10 20 40; do OMP_NUM_THREADS=1 python scripts/long_motion_figures.py $what; done

One length per process (the run's peak memory starts from a fresh process). Prints the cost of
one search iteration of one seed (decode, loss and backward through every window: the fastest
of 10 after a warm-up, as the machine may be shared, and the bytes autograd saves for the
backward pass), then the whole run: satisfied, iterations, time (including loading the text
encoder once), peak memory and the largest acceleration at the seams against the largest
elsewhere.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import motionprog
from motionprog.models.registry import load_model
from motionprog.optimize import generate
from motionprog.optimize.decode import STUDENT, Decoder
from motionprog.optimize.windows import seam_acceleration, timeline_of

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "walk_turn_sit_30s.mprog"
WALK = """motion "a person walks forward" for {seconds} s
at 1 s: distance(pelvis.xz, (0, 0.8)) < 40 cm
at end: distance(pelvis.xz, (0, {far})) < 1 m
"""


def iteration_cost(program, model) -> str:
    """Median seconds and peak MiB of one search iteration of one seed."""
    decoder = Decoder.of(program, model, STUDENT, None, True)
    z = decoder.latents([0], program.frames).requires_grad_(True)

    saved: list[int] = []

    def keep(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor.numel() * tensor.element_size())
        return tensor

    def iteration() -> float:
        started = time.perf_counter()
        with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
            _, joints = decoder(z)
            loss = program.loss(joints).sum()
        torch.autograd.grad(loss, [z])
        return time.perf_counter() - started

    iteration()
    times = [iteration() for _ in range(10)]
    return f"one iteration {min(times):.3f} s, {sum(saved) / 11 / 2**20:.0f} MiB saved for backward"


def figures(source: str | Path, model) -> str:
    """One line of figures for a program."""
    program = motionprog.compile(source)
    cost = iteration_cost(program, model)
    result = generate(program, model=model, device="cpu")
    timeline = timeline_of(program, model)
    seam, other = seam_acceleration(torch.as_tensor(result.motion.joints)[None], timeline, model.fps)
    report = result.report
    return (f"{program.frames / model.fps:g} s, {program.frames} frames, {len(timeline.windows)} windows: {cost}; "
            f"run: satisfied {report['satisfied']}, {report['iterations']} iterations, {report['time_s']:.1f} s, "
            f"peak {report['peak_memory_mb']:.0f} MiB, "
            f"seam {float(seam):.1f} vs elsewhere {float(other):.1f} m/s^2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", help="'example', or the seconds of a plain walk")
    what = parser.parse_args().what
    torch.set_num_threads(1)
    model = load_model("bundled", device="cpu")
    source = EXAMPLE if what == "example" else WALK.format(seconds=float(what), far=round(0.85 * float(what), 1))
    print(f"{what}:", figures(source, model), flush=True)


if __name__ == "__main__":
    main()
