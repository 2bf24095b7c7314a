"""Plots of a run report: each constraint's margin over the optimisation, and per-frame margins.

Reads the report JSON of :mod:`motionprog.optimize.report` (also stored in a motion's
``metadata["report"]``):

- ``history``: ``{"constraints": [K names], "margins": [N iterations][K]}`` (null = not finite);
- ``per_frame`` (optional): ``{"constraints": [K names], "margins": [K][T]}`` with null outside a
  constraint's window, and ``fps`` (default 20) for the time axis.

Margins are in each constraint's unit (``constraints[i]["unit"]``), positive when satisfied.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from motionprog.body.skeleton import FPS
from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
"""Image formats :func:`plot_report` writes, chosen by extension."""


def _series(block: Any, what: str) -> tuple[list[str], np.ndarray]:
    """Names [K] and margins as float [K, N] (NaN for null) of a history or per-frame block."""
    if not isinstance(block, Mapping) or "margins" not in block:
        raise InputError(f"report {what} has no 'margins'")
    margins = np.array([[np.nan if v is None else float(v) for v in row] for row in block["margins"]], dtype=float)
    if margins.ndim != 2 or margins.size == 0:
        raise InputError(f"report {what} margins must be a non-empty table, got shape {list(margins.shape)}")
    names = [str(n) for n in block.get("constraints", [])]
    return names, margins


def _units(report: Mapping[str, Any]) -> dict[str, str]:
    return {str(c.get("name")): str(c.get("unit") or "") for c in report.get("constraints", []) if isinstance(c, Mapping)}


def load_report(path: str | os.PathLike) -> dict[str, Any]:
    """A report from a .json file or from a motion .npz (its ``metadata["report"]``); InputError naming the file."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        from motionprog.motion import load_npz

        report = load_npz(path).metadata.get("report")
        if not isinstance(report, dict):
            raise InputError(f"{path}: the motion file carries no constraint report")
        return report
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON report ({exc})") from exc
    if not isinstance(report, dict):
        raise InputError(f"{path}: a report must be a JSON object")
    return report


def plot_report(report: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Draw ``report``'s margins per constraint over the iterations (and per frame when present)
    into ``path`` (.png, .svg or .pdf), atomically. Raises InputError when there is nothing to plot."""
    from matplotlib.figure import Figure

    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(f"{path}: unknown plot extension {path.suffix!r} (use {', '.join(PLOT_SUFFIXES)})")
    if "history" not in report:
        raise InputError("the report has no 'history' of margins to plot")
    names, history = _series(report["history"], "history")  # [N, K]
    per_frame = report.get("per_frame")
    units = _units(report)
    figure = Figure(figsize=(8, 7 if per_frame else 4), layout="constrained")
    axes = figure.subplots(2 if per_frame else 1, 1, squeeze=False)[:, 0]
    panels = [(axes[0], np.arange(len(history)), history.T, names, "iteration", "margin over the optimisation")]
    if per_frame:
        frame_names, frame_margins = _series(per_frame, "per_frame")  # [K, T]
        fps = float(report.get("fps", FPS))
        panels.append((axes[1], np.arange(frame_margins.shape[1]) / fps, frame_margins, frame_names, "time (s)", "margin per frame"))
    for ax, x, series, labels, xlabel, title in panels:
        for k, values in enumerate(series):
            name = labels[k] if k < len(labels) else f"constraint {k + 1}"
            unit = units.get(name, "")
            ax.plot(x, values, label=f"{name} ({unit})" if unit else name)
        ax.axhline(0.0, color="black", linewidth=0.8, linestyle="--")
        ax.set(xlabel=xlabel, ylabel="margin (> 0 satisfied)", title=title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="best")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110)
    return path
