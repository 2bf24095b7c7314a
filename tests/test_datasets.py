"""Free training data: vendored CMU clips, DeepMimic clips, MDM samples, mirroring, loading."""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pytest

from motionprog.body import skeleton
from motionprog.errors import InputError
from motionprog.io import datasets
from motionprog.io.bvh import read_bvh, write_bvh
from motionprog.motion import Motion
from tests.conftest import shared_path


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    return np.linalg.norm(joints[:, 1:] - joints[:, list(skeleton.PARENTS[1:])], axis=-1)


def assert_on_the_22_joint_body(motion: Motion) -> None:
    assert motion.fps == 20
    lengths = bone_lengths(motion.joints.astype(np.float64))
    np.testing.assert_allclose(lengths, np.broadcast_to(skeleton.BONE_LENGTHS[1:], lengths.shape), atol=2e-6)
    assert motion.joints[:, list(skeleton.FOOT_JOINTS), 1].min() == pytest.approx(0.0, abs=1e-6)


def test_bundled_cmu_clips():
    motions = datasets.bundled_cmu_motions()
    assert [m.num_frames for m in motions] == [459, 752]  # 2752 and 4511 frames at 120 fps
    assert "jumps forward" in motions[0].text and "climbs" in motions[1].text
    for motion in motions:
        assert_on_the_22_joint_body(motion)
    attribution = (resources.files("motionprog") / "data" / "CMU_ATTRIBUTION.txt").read_text()
    assert "obtained from mocap.cs.cmu.edu" in attribution and "NSF EIA-0196217" in attribution


def test_bundled_clips_match_the_importer():
    """scripts/vendor_cmu.py output equals read_bvh of the source (the vendored data is current)."""
    source = read_bvh(shared_path("data/cmu/01_01.bvh"))
    assert np.abs(datasets.bundled_cmu_motions()[0].joints - source.joints).max() < 1e-6


def test_mirror_swaps_sides_and_twice_is_identity():
    motion = datasets.bundled_cmu_motions()[0]
    motion = Motion(joints=motion.joints[:50], text="Left hand up, then the right foot; leftover", metadata={"a": 1})
    mirrored = datasets.mirror(motion)
    assert mirrored.text == "Right hand up, then the left foot; leftover"
    left, right = skeleton.JOINT_INDEX["left_wrist"], skeleton.JOINT_INDEX["right_wrist"]
    np.testing.assert_array_equal(mirrored.joints[:, left], motion.joints[:, right] * [-1, 1, 1])
    assert mirrored.joints[0, left, 0] > 0.5  # still a T-pose with the left hand at +X
    np.testing.assert_allclose(bone_lengths(mirrored.joints)[:, [0, 1]], bone_lengths(motion.joints)[:, [1, 0]])
    twice = datasets.mirror(mirrored)
    np.testing.assert_array_equal(twice.joints, motion.joints)
    assert twice.text == motion.text and twice.metadata == motion.metadata


def test_deepmimic_clips_from_pybullet():
    pytest.importorskip("pybullet_data")
    motions = datasets.deepmimic_motions()
    assert len(motions) == 15
    assert sum(m.duration for m in motions) == pytest.approx(33.95, abs=0.01)
    for motion in motions:
        assert_on_the_22_joint_body(motion)
    walk = next(m for m in motions if m.metadata["source"].endswith("humanoid3d_walk.txt"))
    assert walk.text == "a person walks forward" and walk.num_frames == 26  # 38 x 1/30 s
    assert walk.joints[-1, 0, 2] > 1.0 and abs(walk.joints[-1, 0, 0]) < 0.2  # forward is +Z
    kick = next(m for m in motions if "kick" in m.text and "spin" not in m.text)
    foot = skeleton.JOINT_INDEX
    assert kick.joints[:, foot["right_foot"], 1].max() > 1.0 > kick.joints[:, foot["left_foot"], 1].max()


def test_humanoid_offsets_come_from_the_urdf():
    data = pytest.importorskip("pybullet_data")
    names, parents, offsets, kinds, axes = datasets.read_humanoid(f"{data.getDataPath()}/humanoid/humanoid.urdf")
    knee = names.index("left_knee")
    assert names[parents[knee]] == "left_hip" and kinds[knee] == "revolute"
    np.testing.assert_allclose(offsets[knee], [0.0, -1.686184, 0.0])
    np.testing.assert_allclose(axes[knee], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(offsets[names.index("left_toe")], [0.18 + 0.708 / 4, -0.09 - 0.11, 0.0])


def test_deepmimic_without_pybullet_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pybullet_data", None)  # import now raises ImportError
    with pytest.raises(InputError, match=r"pip install 'motionprog\[deepmimic\]'"):
        datasets.deepmimic_motions()


def test_mdm_samples_trimmed_with_their_text():
    path = shared_path("data/mdm_samples/mdm_humanml_samples.npz")
    motions = datasets.mdm_sample_motions(path)
    with np.load(path) as data:
        lengths, texts = data["lengths"], data["text"]
    assert len(motions) == 32
    assert [m.num_frames for m in motions] == lengths.tolist()
    assert motions[0].text == "a person is jogging on the spot." == texts[0]
    assert min(m.joints[:, list(skeleton.FOOT_JOINTS), 1].min() for m in motions) == pytest.approx(0.0, abs=1e-6)


def test_load_training_motions_from_every_kind_of_source(tmp_path):
    cmu = datasets.bundled_cmu_motions()
    folder = tmp_path / "mine"
    write_bvh(Motion(joints=cmu[0].joints[:40]), folder / "a.bvh")
    (folder / "hml" / "new_joints").mkdir(parents=True)
    (folder / "hml" / "texts").mkdir()
    np.save(folder / "hml" / "new_joints" / "000001.npy", cmu[1].joints[:30])
    (folder / "hml" / "texts" / "000001.txt").write_text("a person climbs.#a/DET person/NOUN#0.0#0.0\n")
    motions = datasets.load_training_motions(["cmu", folder])
    assert [m.num_frames for m in motions] == [459, 752, 40, 30]
    assert motions[3].text == "a person climbs."
    np.testing.assert_allclose(motions[3].joints, cmu[1].joints[:30])
    with pytest.raises(InputError, match="nowhere: no such file or folder"):
        datasets.load_training_motions(["nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .bvh, .npy or .npz motion files"):
        datasets.load_training_motions([tmp_path / "empty"])
