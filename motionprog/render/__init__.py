"""Seeing motions: offscreen video (``video``), the self-contained HTML viewer (``viewer``),
report plots (``plots``), all drawing the shapes of ``scene``.

pyrender and matplotlib are imported only when a video or a plot is made.
"""

from motionprog.render.video import RenderConfig, RenderResult, render_motion
from motionprog.render.viewer import write_viewer

__all__ = ["RenderConfig", "RenderResult", "render_motion", "write_viewer"]
