"""`motionprog plot`: margins over the optimisation and per frame, from a report JSON or an npz."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motionprog.errors import InputError
from motionprog.motion import Motion, save_npz
from motionprog.render.plots import load_report, plot_report

pytest.importorskip("matplotlib")

REPORT = {
    "satisfied": True,
    "constraints": [{"name": "head under bar", "unit": "m"}, {"name": "speed", "unit": "m/s"}],
    "history": {"constraints": ["head under bar", "speed"], "margins": [[-0.3, -1.0], [-0.1, None], [0.05, 0.2]]},
    "per_frame": {"constraints": ["head under bar", "speed"], "margins": [[0.1, 0.2, None, 0.3], [None, 0.5, 0.4, 0.3]]},
}


def test_plot_has_both_panels_with_one_line_per_constraint(tmp_path: Path) -> None:
    from matplotlib.image import imread

    both = plot_report(REPORT, tmp_path / "both.png")
    history_only = plot_report({k: v for k, v in REPORT.items() if k != "per_frame"}, tmp_path / "history.png")
    tall, short = imread(both), imread(history_only)
    assert tall.shape[:2] == (770, 880) and short.shape[:2] == (440, 880)  # 8x7 and 8x4 inches at 110 dpi
    assert tall[..., :3].std() > 0.05


def test_plot_svg_names_constraints_with_units(tmp_path: Path) -> None:
    svg = plot_report(REPORT, tmp_path / "p.svg").read_text()
    assert "head under bar (m)" in svg and "speed (m/s)" in svg and "margin per frame" in svg


def test_report_from_npz_and_bad_reports(tmp_path: Path) -> None:
    save_npz(Motion(np.zeros((2, 22, 3)), metadata={"report": REPORT}), tmp_path / "m.npz")
    assert load_report(tmp_path / "m.npz")["history"] == REPORT["history"]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match=r"bad\.json: not a JSON report"):
        load_report(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no 'history'"):
        plot_report({"constraints": []}, tmp_path / "none.png")
    with pytest.raises(InputError, match=r"unknown plot extension '\.jpg'"):
        plot_report(REPORT, tmp_path / "p.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "m.npz"]


def test_cli_plot(tmp_path: Path, cli) -> None:
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    status, output = cli("plot", tmp_path / "report.json", "-o", tmp_path / "p.png")
    assert status == 0 and (tmp_path / "p.png").stat().st_size > 1000, output
    status, output = cli("plot", tmp_path / "missing.json", "-o", tmp_path / "q.png")
    assert status == 2 and "missing.json: no such file" in output and not (tmp_path / "q.png").exists()
