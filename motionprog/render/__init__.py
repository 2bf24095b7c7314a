"""Seeing motions: offscreen video (``video``), the self-contained HTML viewer (``viewer``) and
report plots (``plots``). They draw the capsule body (``body``), the floor and the program's
scene objects (``objects``), joint trails (``trails``), seen from ``camera``.

pyrender and matplotlib are imported only when a video or a plot is made.
"""

from motionprog.render.video import RenderConfig, RenderResult, render_motion
from motionprog.render.viewer import write_viewer

__all__ = ["RenderConfig", "RenderResult", "render_motion", "write_viewer"]
