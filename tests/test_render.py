"""Scene shapes (closed-form checks) and offscreen rendering to .png/.gif/.mp4 through EGL."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_INDEX
from motionprog.errors import InputError
from motionprog.motion import Motion, save_npz
from motionprog.body.segments import CAPSULE_RADII, CAPSULES
from motionprog.render.body import body_mesh, rotation_from_z
from motionprog.render.camera import camera_poses
from motionprog.render.objects import floor_grid, scene_objects, segments_mesh
from motionprog.render.trails import constrained_joints

SCENE = [
    {"kind": "box", "center": [0.0, 1.25, 0.6], "size": [2.0, 0.1, 0.3]},
    {"kind": "point", "position": [0.5, 0.0, 1.0]},
    {"kind": "teapot"},
]
REPORT = {"satisfied": True, "constraints": [{"name": "head under bar", "description": "head.y < bar.bottom",
                                               "joints": ["head"], "margin": 0.1, "unit": "m", "satisfied": True}]}


def test_rotation_from_z_maps_z_onto_each_direction() -> None:
    directions = np.array([[1.0, 2.0, -2.0], [0.0, 0.0, -3.0], [0.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    rot = rotation_from_z(directions)
    assert np.allclose(rot @ np.array([0.0, 0.0, 1.0]), directions / np.linalg.norm(directions, axis=1, keepdims=True))
    assert np.allclose(rot @ rot.transpose(0, 2, 1), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rot), 1.0)


def test_body_mesh_is_the_collision_capsules(swinging_joints) -> None:
    from motionprog.geometry import body_capsules

    vertices, normals, faces = body_mesh(swinging_joints[:3])
    assert vertices.shape[:1] == (3,) and vertices.shape == normals.shape and faces.max() < vertices.shape[1]
    assert np.allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-5)
    import torch

    start, end, _ = (t.numpy() for t in body_capsules(torch.as_tensor(swinging_joints[:3], dtype=torch.float64)))
    count = len(CAPSULES)
    balls = vertices[:, -2 * count * 42 :].reshape(3, count, 2, 42, 3)  # icosphere(1) has 42 vertices
    # Every end sphere is centred on its capsule's end and has the capsule's radius.
    assert np.allclose(balls.mean(-2), np.stack([start, end], -2), atol=1e-5)
    assert np.allclose(np.linalg.norm(balls - balls.mean(-2, keepdims=True), axis=-1).max(-1), CAPSULE_RADII[:, None], atol=1e-5)
    cylinders = vertices[:, : -2 * count * 42].reshape(3, count, -1, 3)
    axis = (end - start) / np.linalg.norm(end - start, axis=-1, keepdims=True)
    along = np.einsum("tkvc,tkc->tkv", cylinders - start[:, :, None], axis)
    assert np.allclose(along.min(-1), 0.0, atol=1e-5)
    assert np.allclose(along.max(-1), np.linalg.norm(end - start, axis=-1), atol=1e-5)


def test_segments_and_floor_have_the_expected_size() -> None:
    vertices, faces = segments_mesh(np.zeros((5, 3)), np.ones((5, 3)), radius=0.01, sides=6)
    assert vertices.shape == (60, 3) and faces.shape == (60, 3)
    floor = floor_grid(np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 1.0]), tile=0.5, margin=1.0)
    assert len(floor.faces) == 2 * 6 * 6  # 3 m x 3 m in 0.5 m tiles
    assert np.allclose(floor.vertices[:, [0, 2]].min(0), -1.0) and np.allclose(floor.vertices[:, [0, 2]].max(0), 2.0)


def test_scene_objects_draw_known_kinds_and_warn_about_the_rest() -> None:
    objects, warnings = scene_objects(SCENE, np.zeros(3), np.ones(3))
    assert [o.kind for o in objects] == ["box", "point"]
    assert np.allclose(objects[0].vertices.min(0), [-1.0, 1.2, 0.45]) and np.allclose(objects[0].vertices.max(0), [1.0, 1.3, 0.75])
    assert np.allclose(objects[1].vertices.mean(0), [0.5, 0.0, 1.0], atol=1e-6)
    assert len(warnings) == 1 and "'teapot'" in warnings[0]


def test_rotated_box_from_geometry_to_dict() -> None:
    rotation = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]  # 90 degrees about +Y
    (box,), _ = scene_objects([{"kind": "box", "center": [0, 1, 0], "size": [2, 0.2, 0.4], "rotation": rotation}], np.zeros(3), np.ones(3))
    assert np.allclose(box.vertices.max(0) - box.vertices.min(0), [0.4, 0.2, 2.0], atol=1e-6)


def test_constrained_joints_come_from_the_report() -> None:
    assert constrained_joints({"report": REPORT}) == (JOINT_INDEX["head"],)
    assert constrained_joints({}) == ()
    every = {"constraints": [{"joints": list(JOINT_INDEX)}, {"joints": ["left_wrist", "no_such", 3]}, {"joints": "head"}]}
    assert constrained_joints({"report": every}) == (JOINT_INDEX["left_wrist"],)


@pytest.mark.parametrize("mode", ["frame", "follow"])
def test_camera_keeps_the_body_in_view(swinging_joints, mode: str) -> None:
    yfov, aspect = np.pi / 4, 4 / 3
    poses = camera_poses([swinging_joints], mode, yfov, aspect)
    assert poses.shape == (24, 4, 4)
    points = np.concatenate([swinging_joints, np.ones((24, 22, 1))], -1)
    camera = np.einsum("tij,tkj->tki", np.linalg.inv(poses), points)[..., :3]
    assert (camera[..., 2] < 0).all()
    ndc_x = camera[..., 0] / -camera[..., 2] / (np.tan(yfov / 2) * aspect)
    ndc_y = camera[..., 1] / -camera[..., 2] / np.tan(yfov / 2)
    assert np.abs(ndc_x).max() < 1 and np.abs(ndc_y).max() < 1


def _renderer_or_skip() -> None:
    pytest.importorskip("pyrender", exc_type=ImportError)
    from motionprog.errors import MotionprogError
    from motionprog.render.video import load_pyrender, offscreen_renderer

    try:
        offscreen_renderer(load_pyrender(), 16, 16).delete()
    except (MotionprogError, Exception) as exc:  # no EGL/OSMesa on this machine
        pytest.skip(f"offscreen OpenGL unavailable: {exc}")


@pytest.fixture
def motion(swinging_joints) -> Motion:
    return Motion(swinging_joints[:8], text="swing", metadata={"scene": SCENE, "report": REPORT})


def test_png_shows_the_body_side_by_side(motion: Motion, tmp_path: Path) -> None:
    _renderer_or_skip()
    from PIL import Image

    from motionprog.render.video import RenderConfig, render_motion

    calls = []
    result = render_motion([motion, motion], tmp_path / "cmp.png", config=RenderConfig(width=96, height=64, png_frames=2),
                           progress=lambda done, total: calls.append((done, total)))
    image = np.asarray(Image.open(result.path).convert("RGB"), dtype=float)
    assert image.shape == (128, 192, 3) and result.frames == 2 and calls == [(1, 2), (2, 2)]
    assert result.warnings == ("motion 1: scene object 'teapot' not drawn: unknown kind 'teapot' (known: point, line, plane, box, sphere, cylinder, mesh)",
                               "motion 2: scene object 'teapot' not drawn: unknown kind 'teapot' (known: point, line, plane, box, sphere, cylinder, mesh)")
    bluish = (image[..., 2] - image[..., 0] > 60).reshape(2, 64, 2, 96).sum(axis=(1, 3))
    orange = ((image[..., 0] - image[..., 2] > 60) & (image[..., 1] - image[..., 2] > 30)).reshape(2, 64, 2, 96).sum(axis=(1, 3))
    assert (bluish[:, 0] > 20).all() and (orange[:, 1] > 20).all()  # motion 1 blue on the left, motion 2 orange on the right (red targets and pink trails have green <= blue)
    assert (bluish[:, 1] < 5).all() and (orange[:, 0] < 5).all()


def test_video_has_one_frame_per_motion_frame(motion: Motion, tmp_path: Path, monkeypatch) -> None:
    _renderer_or_skip()
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    import imageio_ffmpeg
    from PIL import Image

    from motionprog.render.video import RenderConfig, render_motion

    config = RenderConfig(width=64, height=48, camera="follow", trails=("left_wrist",))
    mp4 = render_motion(motion, tmp_path / "m.mp4", config=config)
    reader = imageio_ffmpeg.read_frames(str(mp4.path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(48, 64, 3) for f in reader]
    assert meta["size"] == (64, 48) and len(frames) == 8 and mp4.frames == 8
    assert np.std(frames[0]) > 10
    gif = render_motion(motion, tmp_path / "m.gif", config=config)
    assert Image.open(gif.path).n_frames == 8
    assert "PYOPENGL_PLATFORM" not in os.environ  # chosen for the context only, then restored


def test_bad_extension_writes_nothing(motion: Motion, tmp_path: Path) -> None:
    from motionprog.render.video import render_motion

    with pytest.raises(InputError, match=r"unknown output extension '\.avi'"):
        render_motion(motion, tmp_path / "m.avi")
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_inputs_exit_2_without_output(motion: Motion, tmp_path: Path, cli, monkeypatch) -> None:
    from motionprog.errors import MotionprogError
    from motionprog.render.video import load_pyrender

    with contextlib.suppress(MotionprogError):
        load_pyrender()  # PyOpenGL fixes its platform at its first import; the bad one below then fails at the context
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not a zip")
    good = tmp_path / "good.npz"
    save_npz(motion, good)
    out = tmp_path / "out.mp4"
    cases = [
        ((tmp_path / "missing.npz", "-o", out), None, "missing.npz: no such file"),
        ((corrupt, "-o", out), None, "corrupt.npz: cannot read motion file"),
        ((good, "-o", tmp_path / "out.webm"), None, "unknown output extension '.webm'"),
        ((good, "-o", out), "no-such-platform", "apt-get install libegl1"),
    ]
    for args, platform, message in cases:
        if platform is not None:
            monkeypatch.setenv("PYOPENGL_PLATFORM", platform)
        status, output = cli("render", *args)
        assert status == 2, output
        assert message in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.npz", "good.npz"]


def test_cli_renders_two_files_side_by_side(motion: Motion, tmp_path: Path, cli) -> None:
    _renderer_or_skip()
    from PIL import Image

    save_npz(motion, tmp_path / "a.npz")
    save_npz(motion, tmp_path / "b.npz")
    status, output = cli("render", tmp_path / "a.npz", tmp_path / "b.npz", "-o", tmp_path / "cmp.png",
                         "--width", "80", "--height", "60")
    assert status == 0, output
    assert "not drawn" in output and Image.open(tmp_path / "cmp.png").size == (160, 240)


def test_every_geometry_object_is_drawn_where_the_geometry_puts_it(tmp_path: Path) -> None:
    import trimesh

    from motionprog.geometry import Box, Cylinder, Line, Mesh, Plane, Point, Sphere

    trimesh.creation.box((1.0, 2.0, 1.0)).export(tmp_path / "crate.stl")
    items = [
        Point((0.0, 0.0, 5.0)),
        Line((0.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
        Plane((0.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        Box((0.0, 1.25, 2.5), (3.0, 0.1, 0.3), rotation=30.0),
        Sphere((0.0, 1.0, 0.0), 0.3),
        Cylinder((1.0, 0.5, 1.0), 0.2, 1.0),
        Mesh.load(tmp_path / "crate.stl", position=(2.0, 1.0, 0.0), rotation=90.0, scale=0.5),
    ]
    objects, warnings = scene_objects([p.to_dict() for p in items], np.zeros(3), np.ones(3), mesh_files=True)
    assert warnings == () and [o.kind for o in objects] == ["point", "line", "plane", "box", "sphere", "cylinder", "mesh"]
    for item, drawn in zip(items, objects):
        if hasattr(item, "min"):  # the drawn box, cylinder and mesh fill the geometry's own bounds
            assert np.allclose(drawn.vertices.min(0), item.min, atol=1e-5), item
            assert np.allclose(drawn.vertices.max(0), item.max, atol=1e-5), item
    cylinder = objects[5].vertices  # upright: the rotated +Y axis
    assert np.allclose(cylinder.min(0), [0.8, 0.0, 0.8], atol=1e-6) and np.allclose(cylinder.max(0), [1.2, 1.0, 1.2], atol=1e-6)


def test_a_scene_dict_the_geometry_refuses_is_a_warning() -> None:
    objects, warnings = scene_objects([{"kind": "sphere", "center": [0, 1, 0], "radius": -0.2},
                                       {"kind": "box", "center": [0, 1, 0]}], np.zeros(3), np.ones(3))
    assert objects == ()
    assert warnings[0] == "scene object 'sphere' not drawn: sphere radius must be a positive number of metres, got -0.2"
    assert warnings[1].startswith("scene object 'box' not drawn:") and "size" in warnings[1]
