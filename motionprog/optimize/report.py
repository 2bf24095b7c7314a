"""The run report: per-constraint margins, naturalness, time, memory, seeds and history.

The report is plain JSON data (see docs/optimizer.md for every field). It is stored in the
output motion's ``metadata["report"]``; the CLI renders it as a table.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from motionprog.body.skeleton import JOINT_NAMES
from motionprog.optimize.solution import Solution
from motionprog.optimize.verdict import hard_mask, violations

if TYPE_CHECKING:
    from motionprog.lang.program import Program

CONFLICT_COSINE = -0.5
"""Two hard constraints conflict when the gradients of their margins with respect to the joints
point against each other: cosine below this value."""


def _number(value: float) -> float | None:
    """A JSON-safe float (None for NaN/inf)."""
    value = float(value)
    return value if math.isfinite(value) else None


def conflicts(program: Program, joints: Tensor) -> list[tuple[int, int]]:
    """Pairs (k, j) of hard constraints whose margins pull one seed's joints in opposite directions.

    joints: [1, T, 22, 3] metres. Only pairs where constraint k is violated are returned: these
    are the constraints that stop each other from holding (e.g. head above 3 m and head below
    1 m at the same frame). One backward pass over the joints per constraint (no decoder).
    """
    hard = hard_mask(program).tolist()
    probe = joints.detach().double().requires_grad_(True)
    margins = program.margins(probe)[0]
    rows = []
    for k in range(margins.shape[0]):
        (grad,) = torch.autograd.grad(margins[k], probe, retain_graph=True, allow_unused=True)
        rows.append(torch.zeros_like(probe).flatten() if grad is None else grad.flatten())
    gradients = torch.nan_to_num(torch.stack(rows))
    unit = gradients / gradients.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cosine = unit @ unit.T
    violated = (margins.detach() < 0).tolist()
    return [
        (k, j)
        for k in range(len(hard)) if hard[k] and violated[k]
        for j in range(len(hard)) if j != k and hard[j] and float(cosine[k, j]) < CONFLICT_COSINE
    ]


def constraint_rows(program: Program, margins: Tensor) -> list[dict[str, Any]]:
    """One JSON row per constraint for the margins [K] of the chosen seed."""
    rows = []
    for info, margin in zip(program.constraints, margins.tolist()):
        holds = margin >= 0 if info.kind == "constraint" else (None if info.stop is None else margin >= info.stop)
        rows.append({
            "name": info.name, "source": info.source, "hard": bool(info.hard), "weight": float(info.weight),
            "margin": _number(margin), "unit": info.unit, "satisfied": holds, "kind": info.kind,
            "description": info.description, "joints": [JOINT_NAMES[i] for i in info.joints],
        })
    return rows


def seed_rows(program: Program, solution: Solution, seeds: tuple[int, ...], metrics: dict[str, Tensor]) -> list[dict[str, Any]]:
    """Per-seed summary: random seed, satisfied, violated count, total violation, loss, metrics."""
    count, total = violations(solution.best.margins, hard_mask(program, solution.best.margins.device))
    rows = []
    for b, seed in enumerate(seeds):
        rows.append({
            "seed": int(seed), "satisfied": bool(count[b] == 0), "violated": int(count[b]),
            "total_violation": _number(total[b]), "loss": _number(solution.best.loss[b]),
            "steps": int(solution.best.steps[b]),
            "metrics": {name: _number(values[b]) for name, values in metrics.items()},
        })
    return rows


def history_json(program: Program, solution: Solution, best: int) -> dict[str, Any]:
    """Per-iteration record: time, mean loss, seeds satisfied, and the chosen seed's margins."""
    history = solution.history
    margins = history.margins[:, best].cpu().numpy()
    return {
        "time_s": [round(float(t), 4) for t in history.time_s],
        "loss": [_number(v) for v in history.loss.mean(1).tolist()],
        "satisfied": [int(v) for v in history.satisfied],
        "constraints": [info.name for info in program.constraints],
        "margins": [[_number(v) for v in row] for row in margins],
    }


def per_frame_json(program: Program, joints: Tensor) -> dict[str, Any]:
    """Per-frame margins [K][T] of one seed's joints [1, T, 22, 3] (null outside a window)."""
    with torch.no_grad():
        margins = program.per_frame_margins(joints)[0]
    return {
        "constraints": [info.name for info in program.constraints],
        "margins": [[_number(v) for v in row] for row in margins.tolist()],
    }


def time_to_satisfy(solution: Solution) -> float | None:
    """Seconds until the first evaluation at which some seed satisfied every hard constraint."""
    hits = (solution.history.satisfied > 0).nonzero()
    return float(solution.history.time_s[int(hits[0, 0])]) if hits.numel() else None


def build_report(
    program: Program,
    solution: Solution,
    best: int,
    *,
    seeds: tuple[int, ...],
    metrics: dict[str, Tensor],
    time_s: float,
    peak_memory_mb: float,
    method: str,
    model_name: str,
    polish: dict[str, Any],
    feet: dict[str, Any] | None = None,
    prompt: dict[str, Any] | None = None,
    windows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report of a run whose chosen seed is batch row ``best`` of ``solution``.

    metrics: name -> [B] naturalness per seed (``motionprog.optimize.naturalness.measure``);
    prompt: how close the prompt is to the model's training labels (``models.vocabulary``);
    windows: the overlapping windows a long motion was decoded in (None: one window).
    """
    chosen = solution.best[best]
    rows = constraint_rows(program, chosen.margins[0])
    hard_rows = [row for row in rows if row["hard"] and row["kind"] == "constraint"]
    satisfied = all(row["satisfied"] for row in hard_rows) and solution.error is None
    pairs = [] if satisfied else conflicts(program, chosen.joints)
    names = [info.name for info in program.constraints]
    return {
        "satisfied": bool(satisfied),
        "method": method,
        "model": model_name,
        "text": program.text,
        "frames": int(program.frames),
        "constraints": rows,
        "violated": [row["name"] for row in hard_rows if not row["satisfied"]],
        "conflicts": [[names[k], names[j]] for k, j in pairs],
        "error": solution.error,
        "metrics": {name: _number(values[best]) for name, values in metrics.items()},
        "iterations": int(solution.iterations),
        "time_s": round(float(time_s), 4),
        "time_to_satisfy_s": time_to_satisfy(solution),
        "peak_memory_mb": round(float(peak_memory_mb), 1),
        "best_seed": int(seeds[best]),
        "seeds": seed_rows(program, solution, seeds, metrics),
        "polish": polish,
        "feet": feet or {"applied": False, "accepted": False},
        "prompt": prompt,
        "windows": windows,
        "placement": {"yaw_rad": float(chosen.yaw[0]), "xz_m": [float(v) for v in chosen.xz[0]]},
        "history": history_json(program, solution, best),
        "per_frame": per_frame_json(program, chosen.joints),
    }


def max_violation(report: dict[str, Any]) -> float:
    """Largest violation among hard constraints of a report, in their units (0 when satisfied)."""
    deficits = [math.inf if row["margin"] is None else max(-row["margin"], 0.0)
                for row in report["constraints"] if row["hard"] and row["kind"] == "constraint"]
    return max(deficits, default=0.0)
