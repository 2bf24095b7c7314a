"""Measure the bundled prior for docs/model-card.md (the numbers there come from this script).

    python scripts/evaluate_bundled.py [WEIGHTS] --data ../shared/data/mdm_samples/mdm_humanml_samples.npz cmu deepmimic
    python scripts/evaluate_bundled.py --student --data ...   # the distilled one-step student instead

Prints one JSON object: held-out denoising loss, naturalness of samples against the training
motions, nearest-neighbour label accuracy of samples for every training prompt, and the cost
of one optimisation iteration (4 seeds x 120 frames, K DDIM steps, forward and backward), and
how far the pelvis travels for a few probe prompts.
Uses the same data split as `motionprog train` (every 10th motion held out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from motionprog.io.datasets import load_training_motions
from motionprog.metrics import summary
from motionprog.models.bundled import WEIGHTS_PATH, BundledModel, load_bundled
from motionprog.models.training import TrainConfig, build_training_set, evaluate


def descriptor(features: torch.Tensor) -> torch.Tensor:
    """A motion's summary for nearest-neighbour matching: mean and std over time of its
    normalised compact features [N, T, 67] -> [N, 134]."""
    return torch.cat([features.mean(1), features.std(1)], dim=-1)


def decode(model: BundledModel, z: torch.Tensor, prompt: str, sampling: dict) -> torch.Tensor:
    """The teacher's decode (``sampling``: steps, guidance) or, with ``sampling["student"]``, the
    distilled student's one evaluation."""
    if sampling.get("student"):
        return model.decode_distilled(z, prompt)
    return model.decode(z, prompt, **sampling)


def samples(model: BundledModel, prompt: str, frames: int, seeds: int, sampling: dict) -> torch.Tensor:
    """Normalised features [seeds, frames, 67] of one prompt, seeds 0 .. seeds-1, no gradients."""
    with torch.no_grad():
        return decode(model, model.latents(range(seeds), frames), prompt, sampling)


def label_accuracy(model: BundledModel, motions: list, frames: int, seeds: int, sampling: dict) -> dict[str, float]:
    """Sample every training prompt, match each sample to the nearest training motion by
    :func:`descriptor`, and count how often that motion carries the prompt's label."""
    data = build_training_set([m.joints for m in motions], [m.text for m in motions], stats=(model.mean, model.std))
    references = torch.stack([descriptor(data.features[i : i + 1, :n])[0] for i, n in enumerate(data.lengths.tolist())])
    prompts = sorted(set(data.labels))
    hits = 0
    for prompt in prompts:
        nearest = torch.cdist(descriptor(samples(model, prompt, frames, seeds, sampling)), references).argmin(dim=1)
        hits += sum(data.labels[i] == prompt for i in nearest.tolist())
    return {"accuracy": hits / (len(prompts) * seeds), "prompts": len(prompts), "seeds": seeds,
            "chance": statistics.mean(data.labels.count(p) / len(data.labels) for p in prompts)}


def iteration_cost(model: BundledModel, sampling: dict, frames: int = 120, seeds: int = 4,
                   repeats: int = 5) -> dict[str, float]:
    """Median seconds of one optimisation iteration: decode, joints, a loss on them, backward to z."""
    times = []
    for _ in range(repeats + 1):
        z = model.latents(range(seeds), frames).requires_grad_(True)
        start = time.perf_counter()
        joints = model.to_joints(decode(model, z, "a person walks forward", sampling))
        joints[..., 0, :].square().mean().backward()
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times[1:]), "frames": frames, "seeds": seeds,
            "threads": torch.get_num_threads()}


def naturalness(model: BundledModel, motions: list, frames: int, seeds: int, sampling: dict
                ) -> dict[str, dict[str, float]]:
    """Metric summaries of samples (every prompt, ``seeds`` each) and of the training motions."""
    prompts = sorted({m.text for m in motions})
    joints = torch.cat([model.to_joints(samples(model, p, frames, seeds, sampling)) for p in prompts])
    training = [summary(torch.as_tensor(m.joints)[None]) for m in motions]
    return {
        "samples": summary(joints),
        "training": {key: statistics.mean(s[key] for s in training) for key in training[0]},
    }


PROBES = ("a person walks forward.", "a person starts to walk backwards.", "a person jogs in place",
          "a person runs forward", "a person does a cartwheel", "a person jumps forward with both feet")
"""Prompts whose pelvis displacement the card reports (does "walk forward" travel forward?)."""


def travel(model: BundledModel, frames: int, seeds: int, sampling: dict) -> dict[str, list[float]]:
    """Mean pelvis displacement (x, z) in metres from the first to the last frame, per probe prompt
    (+z is the direction the body faces at the start)."""
    result = {}
    for prompt in PROBES:
        pelvis = model.to_joints(samples(model, prompt, frames, seeds, sampling))[:, :, 0]
        result[prompt] = [round(v, 2) for v in (pelvis[:, -1] - pelvis[:, 0])[:, [0, 2]].mean(0).tolist()]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="?", default=str(WEIGHTS_PATH))
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="DDIM steps (default: the model's)")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    parser.add_argument("--student", action="store_true", help="measure the distilled student beside the weights")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_bundled(path=args.weights)
    motions = load_training_motions(args.data)
    held = [m for i, m in enumerate(motions) if i % 10 == 9]
    train_motions = [m for i, m in enumerate(motions) if i % 10 != 9]
    sampling = {"student": True} if args.student else {
        "steps": model.default_steps if args.steps is None else args.steps,
        "guidance": model.default_guidance if args.guidance is None else args.guidance,
    }
    heldout = build_training_set([m.joints for m in held], [m.text for m in held], stats=(model.mean, model.std))
    result = {
        "weights": args.weights,
        "sampling": sampling,
        "heldout_loss": None if args.student else evaluate(model.denoiser, heldout, TrainConfig(model=model.config)),
        "naturalness": naturalness(model, train_motions, args.frames, args.seeds, sampling),
        "label_accuracy": label_accuracy(model, train_motions, args.frames, args.seeds, sampling),
        "travel": travel(model, args.frames, args.seeds, sampling),
        "iteration_cost": iteration_cost(model, sampling),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
