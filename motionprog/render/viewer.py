"""A self-contained HTML viewer: one file with three.js inlined, the motions, the scene and the report.

The page needs no network: three.js (vendored in ``assets/three.module.min.js``, MIT, see
``assets/LICENSE``) is embedded as text and imported from a blob URL, the motions and the scene
are embedded as JSON, and ``assets/viewer.js`` plays them (play/pause, scrub, speed, orbit
camera). The constraint report (``metadata["report"]``) is shown beside the motion.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from motionprog.errors import InputError
from motionprog.io.atomic import write_text
from motionprog.motion import Motion
from motionprog.render.body import BODY_COLORS, capsule_landmarks
from motionprog.render.camera import motion_bounds
from motionprog.render.objects import scene_objects
from motionprog.render.trails import constrained_joints, trail_object

VIEWER_SUFFIXES = (".html", ".htm")
"""Extensions of the viewer page."""

_STYLE = """
body { margin: 0; display: flex; height: 100vh; font: 13px system-ui, sans-serif; color: #222; }
#stage { flex: 1; display: flex; flex-direction: column; min-width: 0; }
#view { flex: 1; width: 100%; min-height: 0; display: block; }
#controls { display: flex; gap: 8px; align-items: center; padding: 6px 10px; background: #eee; }
#scrub { flex: 1; }
#side { width: 340px; overflow: auto; padding: 10px 14px; border-left: 1px solid #ddd; background: #fafafa; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 2px 4px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
.ok { color: #17803d; } .bad { color: #b42318; } .warn { color: #9a6700; }
"""


def _asset(name: str) -> str:
    return resources.files("motionprog.render").joinpath("assets", name).read_text(encoding="utf-8")


def _embed(text: str) -> str:
    """One of our own assets, safe inside a <script> element (no closing tag can appear)."""
    return text.replace("</", "<\\/")


SCRIPT_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
"""What :func:`script_json` escapes: with no ``<`` left, neither ``</script`` nor ``<!--`` can
end or derail the element, and JSON.parse restores every character."""


def script_json(data: Any) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">``, whatever its strings hold.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes; every non-ASCII character is
    escaped too (U+2028 included); NaN and infinities are refused (JSON has none).
    """
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.translate(SCRIPT_JSON_ESCAPES)


def _margin(constraint: Mapping[str, Any]) -> str:
    margin = constraint.get("margin")
    text = f"{margin:.4g} {constraint.get('unit') or ''}" if isinstance(margin, (int, float)) else str(margin)
    return html.escape(text.strip())


def _listed(value: Any) -> list[Any]:
    """``value`` when a file holds a list where one belongs, else nothing to show."""
    return value if isinstance(value, list) else []


def report_panel(motions: Sequence[Motion], warnings: Sequence[str]) -> str:
    """The HTML of the side panel: each motion's prompt, constraint report and metrics, then warnings."""
    parts: list[str] = []
    for number, motion in enumerate(motions):
        color = "#%02x%02x%02x" % tuple(round(255 * c) for c in BODY_COLORS[number % len(BODY_COLORS)][:3])
        parts.append(f'<h3><span style="color:{color}">&#9632;</span> {html.escape(motion.text or f"motion {number + 1}")}</h3>')
        parts.append(f"<p>{motion.num_frames} frames, {motion.duration:.2f} s at {motion.fps:g} fps</p>")
        report = motion.metadata.get("report")
        if not isinstance(report, Mapping):
            parts.append("<p>no constraint report</p>")
            continue
        verdict = "ok" if report.get("satisfied") else "bad"
        parts.append(f'<p class="{verdict}">{"all hard constraints hold" if verdict == "ok" else "not satisfied"}</p>')
        rows = [
            f'<tr><td>{html.escape(str(c.get("name", "")))}<br><small>{html.escape(str(c.get("source", "")))}</small></td>'
            f'<td>{_margin(c)}</td><td class="{"ok" if c.get("satisfied") else "bad"}">'
            f'{"&#10003;" if c.get("satisfied") else "&#10007;"}</td></tr>'
            for c in _listed(report.get("constraints"))
            if isinstance(c, Mapping)
        ]
        parts.append("<table><tr><th>constraint</th><th>margin</th><th></th></tr>" + "".join(rows) + "</table>")
        metrics = report.get("metrics")
        if isinstance(metrics, Mapping) and metrics:
            cells = "".join(
                f"<tr><td>{html.escape(str(k))}</td><td>{v:.4g}</td></tr>" if isinstance(v, (int, float))
                else f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                for k, v in metrics.items()
            )
            parts.append(f"<h4>naturalness</h4><table>{cells}</table>")
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.append(f'<h4 class="warn">not drawn</h4><ul class="warn">{items}</ul>')
    return "\n".join(parts)


def viewer_data(
    motions: Sequence[Motion], scene: Sequence[Mapping[str, Any]] | None = None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The JSON the page plays, and warnings for scene objects not drawn.

    Joints are rounded to 0.1 mm and flattened ([T * 22 * 3]); objects and trails are meshes.
    scene: drawn instead of the motions' own ``metadata["scene"]`` when given, mesh files
    included (the caller vouches for them: a program's scene). Mesh files named only by a
    motion file's metadata are never read (a warning says so).
    """
    joints = [m.joints for m in motions]
    lo, hi = motion_bounds(joints)
    items = list(scene) if scene is not None else [item for m in motions for item in m.metadata.get("scene", [])]
    objects, warnings = scene_objects(items, lo, hi, mesh_files=scene is not None)
    trails = [trail_object(m.joints, i) for m in motions for i in constrained_joints(m.metadata)]
    return {
        "fps": float(motions[0].fps),
        "bounds": [lo.round(4).tolist(), hi.round(4).tolist()],
        "capsules": capsule_landmarks(),
        "motions": [
            {
                "frames": m.num_frames,
                "joints": np.round(m.joints.astype(np.float64), 4).ravel().tolist(),
                "color": list(BODY_COLORS[n % len(BODY_COLORS)][:3]),
            }
            for n, m in enumerate(motions)
        ],
        "objects": [
            {
                "label": o.label,
                "vertices": np.round(o.vertices.astype(np.float64), 4).ravel().tolist(),
                "faces": o.faces.ravel().tolist(),
                "color": list(o.color),
            }
            for o in (*objects, *trails)
        ],
    }, warnings


LIVE_RELOAD = """const version = "motion-%s";
setInterval(() => fetch(location.href, {cache: "no-store"}).then(r => r.text())
  .then(page => { if (!page.includes(version)) location.reload(); }).catch(() => {}), 1000);"""
"""With ``live``: the page reloads itself once the file holds another motion (``motionprog watch``)."""


def viewer_html(motions: Motion | Sequence[Motion], scene: Sequence[Mapping[str, Any]] | None = None,
                live: bool = False) -> tuple[str, tuple[str, ...]]:
    """The whole HTML page for one motion or several overlaid, and warnings for objects not drawn;
    ``live`` adds a script that reloads the page when the file on disk changes."""
    motions = [motions] if isinstance(motions, Motion) else list(motions)
    if not motions:
        raise InputError("nothing to view: no motion given")
    data, warnings = viewer_data(motions, scene)
    title = html.escape(motions[0].text or "motion")
    page_data = script_json(data)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - motionprog</title>
<style>{_STYLE}</style></head>
<body>
<div id="stage"><canvas id="view"></canvas>
<div id="controls"><button id="play">play</button>
<input id="scrub" type="range" min="0" max="0" value="0" step="1">
<span id="frame">1 / 1</span>
<select id="speed"><option value="0.25">0.25x</option><option value="0.5">0.5x</option>
<option value="1" selected>1x</option><option value="2">2x</option></select></div></div>
<div id="side">{report_panel(motions, warnings)}</div>
<script type="application/json" id="motion-data">{page_data}</script>
<script type="text/plain" id="three-src">{_embed(_asset("three.module.min.js"))}</script>
<script type="module">{_embed(_asset("viewer.js"))}</script>
{f"<script>{LIVE_RELOAD % hashlib.sha256(page_data.encode()).hexdigest()}</script>" if live else ""}
</body></html>
"""
    return page, warnings


def write_viewer(
    motions: Motion | Sequence[Motion], path: str | os.PathLike, scene: Sequence[Mapping[str, Any]] | None = None,
    live: bool = False,
) -> tuple[str, ...]:
    """Write the viewer page to ``path`` (.html) atomically; returns warnings for objects not drawn.
    ``live``: the open page reloads itself when the file is rewritten (see :func:`viewer_html`)."""
    path = Path(path)
    if path.suffix.lower() not in VIEWER_SUFFIXES:
        raise InputError(f"{path}: the viewer writes .html, not {path.suffix!r}")
    page, warnings = viewer_html(motions, scene, live)
    write_text(path, page)
    return warnings
