"""The Motion value, its npz file, and atomic writes."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from motionprog.errors import InputError
from motionprog.io.atomic import atomic_path, write_text
from motionprog.motion import Motion, load_npz, save_npz


def _motion(frames: int = 5) -> Motion:
    rng = np.random.default_rng(3)
    return Motion(
        joints=rng.normal(size=(frames, 22, 3)).astype(np.float32),
        text="a person walks forward",
        features=rng.normal(size=(frames, 263)).astype(np.float32),
        metadata={"report": {"satisfied": True}, "scene": [{"kind": "point", "position": [0, 0, 5]}]},
    )


def test_npz_round_trip_keeps_every_field(tmp_path):
    motion = _motion()
    save_npz(motion, tmp_path / "m.npz")
    back = load_npz(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.joints, motion.joints)
    np.testing.assert_array_equal(back.features, motion.features)
    assert (back.fps, back.text, back.metadata) == (20.0, motion.text, motion.metadata)
    assert back.duration == pytest.approx(0.25)


def test_npz_keys_are_the_documented_ones(tmp_path):
    save_npz(_motion(), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        assert set(data.files) == {"joints", "fps", "text", "features", "metadata"}
        assert data["joints"].dtype == np.float32 and data["joints"].shape == (5, 22, 3)


def test_stored_rotations_round_trip_and_pose_the_joints(swinging_joints, tmp_path):
    """An engine output carries its rig rotations; ``rig_joints(rotations, joints[:, 0])`` is the
    motion, and a file with them is exported without fitting again."""
    import torch

    from motionprog.body.kinematics import rig_joints

    fitted = Motion(swinging_joints).rig_rotations()
    save_npz(Motion(swinging_joints, rotations=fitted), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as data:
        assert data["rotations"].dtype == np.float32 and data["rotations"].shape == (24, 22, 4)
    back = load_npz(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.rotations, fitted)
    assert back.rig_rotations() is back.rotations
    rotations, root = (torch.as_tensor(x, dtype=torch.float64) for x in (back.rotations, back.joints[:, 0]))
    posed = rig_joints(rotations, root)
    assert np.abs(posed.numpy() - swinging_joints).max() < 1e-5
    with pytest.raises(InputError, match=r"rotations must be finite with shape \[24, 22, 4\], got \[23, 22, 4\]"):
        Motion(swinging_joints, rotations=fitted[1:])
    stale = fitted.copy()
    stale[5] = [1.0, 0.0, 0.0, 0.0]  # frame 5 in the T-pose: another motion than the joints
    with pytest.raises(InputError, match=r"rotations do not pose the joints \(frame 5 is \d+\.\d mm off\)"):
        Motion(swinging_joints, rotations=stale)


@pytest.mark.parametrize(
    ("joints", "message"),
    [
        (np.zeros((4, 21, 3)), r"shape \[T, 22, 3\]"),
        (np.zeros((0, 22, 3)), "at least one frame"),
        (np.full((2, 22, 3), np.nan), "NaN"),
    ],
)
def test_bad_joints_are_refused(joints, message):
    with pytest.raises(InputError, match=message):
        Motion(joints=joints)


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="bad.npz"):
        load_npz(bad)
    with pytest.raises(InputError, match="no such file"):
        load_npz(tmp_path / "absent.npz")


def test_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_and_uses_the_umask(tmp_path):
    target = tmp_path / "notes.txt"
    write_text(target, "first")
    write_text(target, "second")
    assert target.read_text() == "second"
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode == 0o666 & ~_current_umask()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
