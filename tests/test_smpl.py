"""SMPL bodies through smplx, on a small synthetic model file in the SMPL layout made here."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import BONE_LENGTHS, CHAIN_CHILD, PARENTS, RAW_OFFSETS
from motionprog.errors import InputError
from motionprog.motion import Motion

pytest.importorskip("smplx")

from motionprog.io.smpl import load_body_model, posed_meshes  # noqa: E402

SMPL_PARENTS = (*PARENTS, 20, 21)  # joints 22, 23: the hands, after the wrists


def t_pose_joints() -> np.ndarray:
    """Rest joints [24, 3] of a T-pose (arms along +-X) with the HumanML3D bone lengths."""
    offsets = RAW_OFFSETS * BONE_LENGTHS[:, None]
    for joint, side in ((16, 1), (18, 1), (20, 1), (17, -1), (19, -1), (21, -1)):
        offsets[joint] = [side * BONE_LENGTHS[joint], 0.0, 0.0]
    offsets = np.concatenate([offsets, [[0.08, 0.0, 0.0], [-0.08, 0.0, 0.0]]])
    joints = np.zeros((24, 3))
    for j in range(1, 24):
        joints[j] = joints[SMPL_PARENTS[j]] + offsets[j]
    return joints


def write_synthetic_smpl(path: Path) -> None:
    """A 96-vertex SMPL file: a small tetrahedron around each rest joint, rigidly bound to it."""
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float) * 0.02
    vertices = (t_pose_joints()[:, None] + corners[None]).reshape(-1, 3)
    joint_of = np.repeat(np.arange(24), 4)
    weights = np.eye(24)[joint_of]
    faces = (np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]])[None] + 4 * np.arange(24)[:, None, None]).reshape(-1, 3)
    kintree = np.array([[4294967295, *SMPL_PARENTS[1:]], list(range(24))], dtype=np.int64)
    model = {
        "v_template": vertices, "shapedirs": np.zeros((96, 3, 10)), "posedirs": np.zeros((96, 3, 207)),
        "J_regressor": weights.T / 4.0, "weights": weights, "kintree_table": kintree, "f": faces,
    }
    path.write_bytes(pickle.dumps(model))


@pytest.fixture
def model_path(tmp_path: Path) -> Path:
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    write_synthetic_smpl(path)
    return path


def test_smpl_bones_follow_the_motion(model_path: Path, swinging_joints) -> None:
    model = load_body_model(model_path)
    assert model.kind == "smpl" and model.rest_joints.shape == (24, 3)
    vertices, joints, faces = posed_meshes(Motion(swinging_joints), model)
    assert vertices.shape == (24, 96, 3) and joints.shape == (24, 24, 3) and faces.shape == (96, 3)
    assert np.abs(joints[:, 0] - swinging_joints[:, 0]).max() < 1e-5  # pelvis on the motion's pelvis
    chained = [(j, CHAIN_CHILD[j]) for j in range(22) if CHAIN_CHILD[j] >= 0]
    ours = np.stack([swinging_joints[:, c] - swinging_joints[:, j] for j, c in chained], 1)
    theirs = np.stack([joints[:, c] - joints[:, j] for j, c in chained], 1)
    cosine = (ours * theirs).sum(-1) / np.linalg.norm(ours, axis=-1) / np.linalg.norm(theirs, axis=-1)
    assert cosine.min() > 0.99999  # every chained bone points where the motion's bone points
    assert np.allclose(vertices.reshape(24, 24, 4, 3).mean(2), joints, atol=1e-5)  # rigid tetrahedra ride their joints


def test_bad_model_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.pkl: no such body model file"):
        load_body_model(tmp_path / "missing.pkl")
    (tmp_path / "SMPL_bad.pkl").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"SMPL_bad\.pkl: cannot load the smpl model"):
        load_body_model(tmp_path / "SMPL_bad.pkl")


def test_render_draws_the_smpl_body(model_path: Path, swinging_joints, tmp_path: Path) -> None:
    pytest.importorskip("pyrender", exc_type=ImportError)
    from PIL import Image

    from motionprog.errors import MotionprogError
    from motionprog.render.video import RenderConfig, render_motion

    motion = Motion(swinging_joints[:4])
    try:
        capsules = render_motion(motion, tmp_path / "c.png", config=RenderConfig(width=64, height=64, png_frames=1))
        smpl = render_motion(motion, tmp_path / "s.png", config=RenderConfig(width=64, height=64, png_frames=1, body_model=str(model_path)))
    except MotionprogError as exc:
        pytest.skip(f"offscreen OpenGL unavailable: {exc}")
    images = [np.asarray(Image.open(r.path).convert("RGB"), dtype=float) for r in (capsules, smpl)]
    body = [int((image[..., 2] - image[..., 0] > 60).sum()) for image in images]  # blue body pixels
    assert body[1] > 0 and body[1] < body[0] / 2  # 24 small tetrahedra cover far less than the capsule body
