"""BVH parsing, Euler forward kinematics, retargeting of the CMU clips, export and round trip."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from motionprog.body import skeleton
from motionprog.body.kinematics import rigid_frame
from motionprog.body.quantities import facing
from motionprog.errors import InputError
from motionprog.io import formats
from motionprog.io.bvh import EXPORT_ORDER, global_positions, read_bvh, read_bvh_skeleton, write_bvh
from motionprog.body.skeleton import RIGID_DIRECTIONS, RIGID_GROUPS
from motionprog.io.retarget import frame_times, resample
from motionprog.motion import Motion, load_npz, save_npz
from tests.conftest import shared_path

TINY = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT arm
  {
    OFFSET 1 0 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 2 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.05
1 2 3 90 0 0 0 0 0
0 0 0 0 0 0 90 0 90
"""
"""Frame 1: root at (1, 2, 3) turned 90 deg about Z. Frame 2: arm turned Rx(90) Rz(90)."""


def write(tmp_path: Path, text: str, name: str = "clip.bvh") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_euler_forward_kinematics_closed_form(tmp_path):
    bvh = read_bvh_skeleton(write(tmp_path, TINY))
    assert bvh.names == ("root", "arm", "arm_end")
    assert bvh.parents == (-1, 0, 1)
    assert bvh.num_frames == 2 and bvh.fps == pytest.approx(20.0)
    positions = global_positions(bvh)
    # Frame 1: Rz(90) takes +X to +Y and +Y to -X.
    np.testing.assert_allclose(positions[0], [[1, 2, 3], [1, 3, 3], [-1, 3, 3]], atol=1e-12)
    # Frame 2: arm rotation Rx(90) @ Rz(90) (listed order X then Z): the end site offset
    # (0, 2, 0) goes to Rx(90) (-2, 0, 0) = (-2, 0, 0) from the arm at (1, 0, 0).
    np.testing.assert_allclose(positions[1], [[0, 0, 0], [1, 0, 0], [-1, 0, 0]], atol=1e-12)


def test_position_channels_on_a_child_replace_its_offset(tmp_path):
    text = TINY.replace("CHANNELS 3 Xrotation Yrotation Zrotation", "CHANNELS 2 Yposition Zrotation")
    text = text.replace("1 2 3 90 0 0 0 0 0\n0 0 0 0 0 0 90 0 90", "0 0 0 0 0 0 5 90\n0 0 0 0 0 0 0 0")
    positions = global_positions(read_bvh_skeleton(write(tmp_path, text)))
    np.testing.assert_allclose(positions[0], [[0, 0, 0], [1, 5, 0], [-1, 5, 0]], atol=1e-12)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("MOTION\n", "", 16, "expected MOTION"),
        ("0 0 0 0 0 0 90 0 90\n", "0 0 0 0 0 0 90 0\n", 20, "frame has 8 values, expected 9"),
        ("0 0 0 0 0 0 90 0 90\n", "", 19, "truncated: 2 frames declared, 1 found"),
        ("1 2 3 90 0 0", "1 2 x 90 0 0", 19, "non-numeric value 'x'"),
        ("Xrotation Yrotation Zrotation", "Xrotation Yrotation Wrotation", 9, "unknown channel 'Wrotation'"),
        ("CHANNELS 3 X", "CHANNELS 4 X", 9, "declares 4 channels but lists 3"),
        ("OFFSET 1 0 0", "OFFSET 1 0", 8, "OFFSET of 'arm' needs 3 values"),
        ("Frames: 2", "Frames: two", 17, "expected 'Frames: <count>'"),
    ],
)
def test_malformed_files_name_file_line_and_defect(tmp_path, old, new, line, message):
    assert old in TINY
    path = write(tmp_path, TINY.replace(old, new, 1))
    with pytest.raises(InputError) as error:
        read_bvh_skeleton(path)
    assert f"{path}:{line}: " in str(error.value)
    assert message in str(error.value)


def test_hierarchy_cut_short_and_missing_file(tmp_path):
    path = write(tmp_path, TINY[: TINY.index("  JOINT arm")])
    with pytest.raises(InputError, match=re.escape(f"{path}:5: unexpected end of file")):
        read_bvh_skeleton(path)
    with pytest.raises(InputError, match="no such file"):
        read_bvh_skeleton(tmp_path / "absent.bvh")


def test_resample_interpolates_when_the_rate_is_not_a_multiple():
    frames = np.arange(7, dtype=np.float64)[:, None] * np.array([1.0, -2.0])  # value = frame index
    out = resample(frames, frame_times(7, 30.0))  # 6/30 s -> frames at 0, 1/20, ..., 4/20 s
    np.testing.assert_allclose(out, np.array([0.0, 1.5, 3.0, 4.5, 6.0])[:, None] * [1.0, -2.0])
    np.testing.assert_allclose(resample(frames, frame_times(7, 60.0000004))[:, 0], [0.0, 3.0, 6.0])
    uneven = resample(frames, np.array([0.0, 0.01, 0.05, 0.06, 0.1, 0.11, 0.12]))  # 0, 0.05, 0.1 s
    np.testing.assert_allclose(uneven[:, 0], [0.0, 2.0, 4.0])


@pytest.fixture(scope="module")
def cmu_01() -> Path:
    return shared_path("data/cmu/01_01.bvh")


@pytest.mark.parametrize(("name", "frames", "out_frames"), [("01_01", 2752, 459), ("01_03", 4511, 752)])
def test_cmu_clips_parse_and_retarget(name, frames, out_frames):
    path = shared_path(f"data/cmu/{name}.bvh")
    bvh = read_bvh_skeleton(path)
    assert bvh.num_frames == frames
    assert bvh.fps == pytest.approx(120.0, abs=1e-3)
    assert sum(not n.endswith("_end") for n in bvh.names) == 31
    motion = read_bvh(path)
    joints = motion.joints.astype(np.float64)
    assert motion.fps == 20 and motion.num_frames == out_frames  # floor((F - 1) / 6) + 1
    bones = np.linalg.norm(joints[:, 1:] - joints[:, list(skeleton.PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(skeleton.BONE_LENGTHS[1:], bones.shape), atol=2e-6)
    assert joints[:, list(skeleton.FOOT_JOINTS), 1].min() == pytest.approx(0.0, abs=1e-6)
    head_above_pelvis = joints[:, 15, 1] - joints[:, 0, 1]
    assert head_above_pelvis.min() > 0.1 and np.median(head_above_pelvis) > 0.55  # upright
    forward = facing(torch.as_tensor(joints[0])).numpy()
    np.testing.assert_allclose(forward, [0.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(joints[0, 0, [0, 2]], [0.0, 0.0], atol=1e-6)
    assert joints[0, skeleton.JOINT_INDEX["left_wrist"], 0] > 0.5  # T-pose, left hand at +X
    assert 0.85 < joints[0, 0, 1] < 1.05  # pelvis height of a standing adult


def test_round_trip_bvh_npz_bvh_within_a_millimetre(cmu_01, tmp_path):
    first = read_bvh(cmu_01)
    save_npz(first, tmp_path / "clip.npz")
    write_bvh(load_npz(tmp_path / "clip.npz"), tmp_path / "clip.bvh")
    second = read_bvh(tmp_path / "clip.bvh")
    assert second.num_frames == first.num_frames
    assert np.abs(second.joints - first.joints).max() < 1e-3
    assert formats.read_motions(tmp_path / "clip.bvh")[0].num_frames == first.num_frames
    assert formats.writer_for(tmp_path / "x.bvh") is write_bvh


def test_export_structure_and_exact_forward_kinematics(cmu_01, tmp_path):
    motion = Motion(joints=read_bvh(cmu_01).joints[:40])
    write_bvh(motion, tmp_path / "out.bvh")
    bvh = read_bvh_skeleton(tmp_path / "out.bvh")
    joints = [n for n in bvh.names if not n.endswith("_end")]
    assert joints == [skeleton.JOINT_NAMES[j] for j in EXPORT_ORDER]
    assert bvh.motion.shape == (40, 6 + 21 * 3) and bvh.fps == pytest.approx(20.0)
    positions = global_positions(bvh)[:, [bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    assert np.abs(positions - motion.joints).max() < 1e-5


MIXAMO = {
    "pelvis": "Hips", "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot",
    "left_foot": "LeftToeBase", "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck",
    "head": "Head", "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm",
    "left_wrist": "LeftHand",
}


def rename(text: str, names: dict[str, str]) -> str:
    full = {**names, **{k.replace("left", "right"): v.replace("Left", "Right") for k, v in names.items()}}
    return re.sub(r"(ROOT|JOINT) (\w+)", lambda m: f"{m.group(1)} {full[m.group(2)]}", text)


def test_mixamo_names_map_onto_the_same_joints(cmu_01, tmp_path):
    motion = Motion(joints=read_bvh(cmu_01).joints[:30])
    write_bvh(motion, tmp_path / "smpl.bvh")
    mixamo = rename((tmp_path / "smpl.bvh").read_text(), {k: f"mixamorig:{v}" for k, v in MIXAMO.items()})
    renamed = read_bvh(write(tmp_path, mixamo, "mixamo.bvh"))
    assert np.abs(renamed.joints - read_bvh(tmp_path / "smpl.bvh").joints).max() < 1e-6


def test_unknown_skeleton_lists_the_joints_it_cannot_map(cmu_01, tmp_path):
    write_bvh(Motion(joints=read_bvh(cmu_01).joints[:5]), tmp_path / "smpl.bvh")
    numbered = {name: f"bone{i}" for i, name in enumerate(skeleton.JOINT_NAMES)}
    path = write(tmp_path, rename((tmp_path / "smpl.bvh").read_text(), numbered), "odd.bvh")
    with pytest.raises(InputError, match=r"odd\.bvh: cannot map the skeleton .*no joint found for pelvis, "
                                         r"left_hip, right_hip, left_knee.*\(joints in the file: bone0, bone1"):
        read_bvh(path)


def test_humanml3d_joints_export_within_a_fraction_of_a_millimetre(humanml3d_dir, tmp_path):
    """HumanML3D's pelvis and spine3 children move rigidly with the rig's offsets (to 2e-5), so
    a dataset motion goes to BVH and back through forward kinematics within 0.2 mm."""
    joints = np.load(humanml3d_dir / "012314_joints.npy")
    for group in RIGID_GROUPS:
        frames = rigid_frame(torch.as_tensor(joints, dtype=torch.float64), group).numpy()
        for child in group[1:]:
            local = np.einsum("tba,tb->ta", frames, joints[:, child] - joints[:, group[0]])
            local /= np.linalg.norm(local, axis=-1, keepdims=True)
            np.testing.assert_allclose(local, np.broadcast_to(RIGID_DIRECTIONS[child], local.shape), atol=2e-5)
    write_bvh(Motion(joints=joints), tmp_path / "012314.bvh")
    bvh = read_bvh_skeleton(tmp_path / "012314.bvh")
    positions = global_positions(bvh)[:, [bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    assert np.abs(positions - joints).max() < 2e-4  # measured 1.3e-4 m


def test_optimised_motion_exports_within_a_millimetre(optimised_npz, tmp_path):
    """An engine output (not mocap) is a rig pose, so its BVH replays it to the file's 6 decimals."""
    motion = load_npz(optimised_npz)
    write_bvh(motion, tmp_path / "o.bvh")
    bvh = read_bvh_skeleton(tmp_path / "o.bvh")
    positions = global_positions(bvh)[:, [bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    error = np.linalg.norm(positions - motion.joints, axis=-1).max()
    assert error < 2e-5, f"worst joint {error * 1000:.4f} mm"


def test_export_rest_pose_is_a_t_pose_standing_on_the_floor(swinging_joints, tmp_path):
    write_bvh(Motion(swinging_joints), tmp_path / "s.bvh")
    bvh = read_bvh_skeleton(tmp_path / "s.bvh")
    rest = bvh.rest_positions()
    ours = rest[[bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    np.testing.assert_allclose(ours, skeleton.RIG_REST_POSITIONS, atol=5e-6)
    assert abs(rest[:, 1].min()) < 1e-6 and rest[0, 1] == pytest.approx(0.910, abs=1e-3)  # feet on the floor
    arm = [skeleton.JOINT_INDEX[n] for n in ("left_shoulder", "left_elbow", "left_wrist")]
    assert np.ptp(ours[arm, 1]) < 1e-6 and ours[arm[-1], 0] > 0.7  # the left arm straight out along +X

@pytest.mark.parametrize("fps", [24, 30, 60])
def test_convert_resamples_to_the_chosen_frame_rate(cli, optimised_npz, tmp_path, fps):
    """``--fps`` slerps the rig's rotations: frames at times the motion has land on its joints,
    and the body stays the rig in between."""
    motion = load_npz(optimised_npz)
    assert cli("convert", optimised_npz, tmp_path / "o.bvh", "--fps", str(fps))[0] == 0
    bvh = read_bvh_skeleton(tmp_path / "o.bvh")
    assert bvh.fps == pytest.approx(fps) and bvh.num_frames == (motion.num_frames - 1) * fps // 20 + 1
    positions = global_positions(bvh)[:, [bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    shared = np.arange(0, bvh.num_frames, fps // math.gcd(fps, 20))  # frames at times the motion has
    source = shared * 20 // fps
    assert np.linalg.norm(positions[shared] - motion.joints[source], axis=-1).max() < 2e-5
    lengths = np.linalg.norm(positions[:, 1:] - positions[:, list(skeleton.PARENTS[1:])], axis=-1)
    assert np.abs(lengths - skeleton.BONE_LENGTHS[1:]).max() < 2e-5

def test_right_side_names_mirror_the_side_marker_not_the_first_letter():
    from motionprog.io.retarget import NAME_CONVENTIONS

    unreal = NAME_CONVENTIONS["Mixamo/CMU/Unreal"]
    assert "lowerarmr" in unreal[skeleton.JOINT_INDEX["right_elbow"]]  # not "rowerarml"
    assert "rforearm" in unreal[skeleton.JOINT_INDEX["right_elbow"]] and "footr" in unreal[skeleton.JOINT_INDEX["right_ankle"]]
