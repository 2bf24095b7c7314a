"""Offscreen rendering of motions to .mp4, .gif or .png with pyrender (EGL, or OSMesa).

The body is drawn as its collision capsules (:mod:`motionprog.render.body`) on a checkered
floor, with the program's scene objects and the trails of the constrained joints. Meshes are
built once; each frame only moves the body's nodes and the camera. Several motions render side
by side, one panel each, with the same camera when it frames the whole motion.

System requirement: Mesa's EGL (Debian ``libegl1 libgl1-mesa-dri``) or OSMesa (``libosmesa6``),
and the Python extra ``motionprog[render]`` (pyrender 0.1.45 with PyOpenGL 3.1.0).

The OpenGL platform: PyOpenGL reads ``PYOPENGL_PLATFORM`` once, when it is first imported, and
pyrender reads it again whenever it creates an offscreen context. A caller who set it keeps their
choice. Otherwise the renderer sets it to ``egl`` (or ``osmesa`` when only OSMesa is installed)
for exactly those two moments and then restores the environment as it was
(:func:`opengl_platform`), so rendering leaves no process-wide setting behind; the platform that
PyOpenGL chose at its first import stays in force for the rest of the process.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import importlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from motionprog.body.skeleton import joint_index
from motionprog.errors import InputError, MotionprogError
from motionprog.io.atomic import atomic_path
from motionprog.motion import Motion
from motionprog.render.body import BODY_COLORS, body_mesh, vertex_normals
from motionprog.render.camera import camera_poses, motion_bounds
from motionprog.render.objects import SceneObject, floor_grid, scene_objects
from motionprog.render.trails import constrained_joints, trail_object

VIDEO_SUFFIXES = (".mp4", ".gif", ".png")
"""Output formats of :func:`render_motion`, chosen by the path's extension."""

INSTALL_HINT = (
    "install the OpenGL libraries (Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri libosmesa6) "
    "and the renderer (pip install 'motionprog[render]')"
)
"""What a user must install when offscreen rendering is unavailable."""

Progress = Callable[[int, int], None]
"""Progress callback: (frames done, frames in all)."""


@dataclass(frozen=True)
class RenderConfig:
    """How to render.

    width, height: pixels of one panel (rounded up to even numbers for the video codec).
    camera:        ``"frame"`` (fixed, the whole motion in view) or ``"follow"`` (tracks the pelvis).
    trails:        joint names whose paths are drawn; None draws the joints the report's
                   constraints name; ``()`` draws none.
    fps:           frames per second of the video; None uses the motion's (one video frame per frame).
    png_frames:    a .png shows this many frames, evenly spaced, one row each.
    yfov_deg:      vertical field of view of the camera, degrees.
    body_model:    path of an SMPL / SMPL-H / SMPL-X model file: draw that body instead of
                   capsules (needs ``motionprog[smpl]``; see :mod:`motionprog.io.smpl`).
    trust_pickle:  open ``body_model`` with Python's unrestricted pickle (it can run code; only
                   for files you trust); by default it must load without running code.
    """

    width: int = 640
    height: int = 480
    camera: str = "frame"
    trails: tuple[str, ...] | None = None
    fps: float | None = None
    png_frames: int = 4
    yfov_deg: float = 45.0
    body_model: str | None = None
    trust_pickle: bool = False

    def __post_init__(self) -> None:
        if self.camera not in ("frame", "follow"):
            raise InputError(f"camera must be 'frame' or 'follow', got {self.camera!r}")
        if self.width < 16 or self.height < 16:
            raise InputError(f"image size must be at least 16x16, got {self.width}x{self.height}")
        for name in self.trails or ():
            try:
                joint_index(name)
            except KeyError as exc:
                raise InputError(f"trails: {exc.args[0]}") from None


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render_motion` wrote: the file, its frame count, and what could not be drawn."""

    path: Path
    frames: int
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _even(n: int) -> int:
    return n + (n % 2)


def offscreen_platform() -> str:
    """The OpenGL platform to render with: the caller's ``PYOPENGL_PLATFORM`` when set, else
    ``egl``, else ``osmesa``; MotionprogError saying what to install when neither library exists."""
    if "PYOPENGL_PLATFORM" in os.environ:
        return os.environ["PYOPENGL_PLATFORM"]
    for platform, library in (("egl", "EGL"), ("osmesa", "OSMesa")):
        if ctypes.util.find_library(library):
            return platform
    raise MotionprogError(f"no OpenGL backend for offscreen rendering (no EGL or OSMesa library): {INSTALL_HINT}")


@contextlib.contextmanager
def opengl_platform(platform: str) -> Iterator[None]:
    """``PYOPENGL_PLATFORM=platform`` inside the block only; the caller's environment afterwards."""
    before = os.environ.get("PYOPENGL_PLATFORM")
    os.environ["PYOPENGL_PLATFORM"] = platform
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYOPENGL_PLATFORM"]
        else:
            os.environ["PYOPENGL_PLATFORM"] = before


def load_pyrender() -> ModuleType:
    """Import pyrender on the :func:`offscreen_platform` (see the module docstring).

    Raises MotionprogError saying what to install when it cannot be loaded.
    """
    with opengl_platform(offscreen_platform()):
        try:
            return importlib.import_module("pyrender")
        except Exception as exc:  # pyrender raises ImportError, OSError or OpenGL errors here
            raise MotionprogError(f"cannot load pyrender ({type(exc).__name__}: {exc}): {INSTALL_HINT}") from exc


def offscreen_renderer(pyrender: ModuleType, width: int, height: int) -> Any:
    """A pyrender OffscreenRenderer on the :func:`offscreen_platform`; MotionprogError when no
    OpenGL context can be made."""
    with opengl_platform(offscreen_platform()):
        try:
            return pyrender.OffscreenRenderer(width, height)
        except Exception as exc:  # EGL/OSMesa context creation fails with several exception types
            raise MotionprogError(
                f"cannot create an offscreen OpenGL context ({type(exc).__name__}: {exc}): {INSTALL_HINT}"
            ) from exc


def _material(pyrender: ModuleType, color: Sequence[float]) -> Any:
    return pyrender.MetallicRoughnessMaterial(
        baseColorFactor=list(color), metallicFactor=0.05, roughnessFactor=0.7,
        alphaMode="BLEND" if color[3] < 1 else "OPAQUE",
    )


class _Panel:
    """One motion's pyrender scene: static meshes added once; per frame the body's vertex buffer
    is swapped and the camera moved."""

    def __init__(
        self, pyrender: ModuleType, surface: tuple[np.ndarray, np.ndarray, np.ndarray], statics: Sequence[SceneObject],
        color: Sequence[float], cameras: np.ndarray, yfov: float, aspect: float,
    ) -> None:
        self.pyrender = pyrender
        self.scene = pyrender.Scene(bg_color=[0.97, 0.97, 0.98, 1.0], ambient_light=[0.35, 0.35, 0.38])
        for obj in statics:
            self.scene.add(pyrender.Mesh.from_trimesh(obj.to_trimesh(), smooth=False))
        self.material = _material(pyrender, color)
        self.vertices, self.normals, self.faces = surface  # [T, V, 3], [T, V, 3], [F, 3]
        self.body: Any = None
        self.camera = self.scene.add(pyrender.PerspectiveCamera(yfov=yfov, aspectRatio=aspect), pose=cameras[0])
        self.light = self.scene.add(pyrender.DirectionalLight(intensity=3.0), pose=cameras[0])
        self.cameras = cameras

    def pose(self, frame: int) -> None:
        """Show the body at ``frame`` (clamped to its last frame) and move the camera there."""
        t = min(frame, len(self.vertices) - 1)
        primitive = self.pyrender.Primitive(
            positions=self.vertices[t], normals=self.normals[t], indices=self.faces, material=self.material
        )
        if self.body is not None:
            self.scene.remove_node(self.body)
        self.body = self.scene.add(self.pyrender.Mesh([primitive]))
        camera = self.cameras[min(frame, len(self.cameras) - 1)]
        self.scene.set_pose(self.camera, camera)
        self.scene.set_pose(self.light, camera)


def _statics(
    motion: Motion, items: Sequence[Mapping[str, Any]], trails: tuple[str, ...] | None, lo: np.ndarray, hi: np.ndarray,
    mesh_files: bool,
) -> tuple[list[SceneObject], tuple[str, ...]]:
    """Floor, scene objects and trails of one motion, with the warnings for what is not drawn
    (mesh_files: see :func:`motionprog.render.objects.scene_objects`)."""
    objects, warnings = scene_objects(items, lo, hi, mesh_files)
    indices = constrained_joints(motion.metadata) if trails is None else tuple(joint_index(n) for n in trails)
    return [floor_grid(lo, hi), *objects, *(trail_object(motion.joints, i) for i in indices)], warnings


def body_surfaces(motions: Sequence[Motion], body_model: str | None,
                  trust_pickle: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per motion, the body to draw at every frame: vertices [T, V, 3], normals [T, V, 3], faces [F, 3].

    Capsules (:func:`motionprog.render.body.body_mesh`), or the SMPL-family model at ``body_model``
    (``trust_pickle``: see :class:`RenderConfig`).
    """
    if body_model is None:
        return [body_mesh(m.joints) for m in motions]
    from motionprog.io.smpl import load_body_model, posed_meshes

    model = load_body_model(body_model, trust_pickle=trust_pickle)
    surfaces = []
    for motion in motions:
        vertices, _, faces = posed_meshes(motion, model)
        surfaces.append((vertices, vertex_normals(vertices, faces), faces.astype(np.int32)))
    return surfaces


def _frames(panels: Sequence[_Panel], renderer: Any, indices: Sequence[int], progress: Progress | None) -> Iterator[np.ndarray]:
    """Rendered frames [H, W * panels, 3] uint8 for the given frame indices."""
    for done, frame in enumerate(indices, 1):
        images = []
        for panel in panels:
            panel.pose(frame)
            color, _ = renderer.render(panel.scene)
            images.append(color[..., :3])
        yield np.concatenate(images, axis=1)
        if progress is not None:
            progress(done, len(indices))


def _write(path: Path, frames: Iterator[np.ndarray], fps: float, size: tuple[int, int]) -> None:
    """Write frames to ``path`` (format from the suffix) atomically. size: (width, height) of a frame."""
    from PIL import Image

    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".mp4":
            import imageio_ffmpeg

            writer = imageio_ffmpeg.write_frames(
                str(tmp), size, fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=7, macro_block_size=2,
                output_params=["-loglevel", "error"],
            )
            writer.send(None)
            try:
                for frame in frames:
                    writer.send(np.ascontiguousarray(frame))
            finally:
                writer.close()
        elif path.suffix.lower() == ".gif":
            images = [Image.fromarray(frame) for frame in frames]
            images[0].save(tmp, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
        else:
            Image.fromarray(np.concatenate(list(frames), axis=0)).save(tmp)


def render_motion(
    motions: Motion | Sequence[Motion],
    path: str | os.PathLike,
    scene: Sequence[Mapping[str, Any]] | None = None,
    config: RenderConfig | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Render one motion, or several side by side, to ``path`` (.mp4, .gif or .png).

    motions:  one Motion or a sequence (one panel each, left to right).
    scene:    scene dictionaries (``to_dict()`` of geometry primitives) drawn in every panel,
              mesh files included (the caller vouches for them: a program's scene); None draws
              each motion's own ``metadata["scene"]`` without reading any mesh file it names.
    config:   :class:`RenderConfig`; progress: called after each rendered frame.
    Returns the written path, the number of frames and warnings for objects not drawn.
    The output file is complete or absent; raises InputError on a bad path or option and
    MotionprogError when offscreen OpenGL is unavailable.
    """
    config = config or RenderConfig()
    motions = [motions] if isinstance(motions, Motion) else list(motions)
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{path}: unknown output extension {path.suffix!r} (use {', '.join(VIDEO_SUFFIXES)})")
    if not motions:
        raise InputError("nothing to render: no motion given")
    width, height = _even(config.width), _even(config.height)
    joints = [m.joints for m in motions]
    lo, hi = motion_bounds(joints)
    yfov = float(np.radians(config.yfov_deg))
    shared = camera_poses(joints, "frame", yfov, width / height) if config.camera == "frame" else None
    warnings: list[str] = []
    surfaces = body_surfaces(motions, config.body_model, config.trust_pickle)
    pyrender = load_pyrender()
    renderer = offscreen_renderer(pyrender, width, height)
    try:
        panels = []
        for number, motion in enumerate(motions):
            statics, missing = _statics(motion, motion.metadata.get("scene", []) if scene is None else scene, config.trails, lo, hi,
                                        mesh_files=scene is not None)
            warnings.extend(f"motion {number + 1}: {w}" if len(motions) > 1 else w for w in missing)
            cameras = shared if shared is not None else camera_poses([motion.joints], "follow", yfov, width / height)
            color = BODY_COLORS[number % len(BODY_COLORS)]
            panels.append(_Panel(pyrender, surfaces[number], statics, color, cameras, yfov, width / height))
        total = max(len(j) for j in joints)
        if path.suffix.lower() == ".png":
            indices = np.unique(np.linspace(0, total - 1, min(config.png_frames, total)).round().astype(int)).tolist()
        else:
            indices = list(range(total))
        fps = config.fps or motions[0].fps
        _write(path, _frames(panels, renderer, indices, progress), fps, (width * len(panels), height))
    finally:
        renderer.delete()
    return RenderResult(path, len(indices), tuple(warnings))
