"""Rig naming maps (``--rig``): the bone names other rigs expect, with their extra chain bones,
in BVH and GLB; renaming never moves a joint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motionprog.body import skeleton
from motionprog.io.bvh import global_positions, read_bvh, read_bvh_skeleton
from motionprog.io.rigs import RIGS
from motionprog.motion import Motion, save_npz
from tests.test_gltf import node_transforms, read_glb

EXPECTED = {  # a few bones of each rig's stock skeleton, by our joint name; and the bones it adds
    "mixamo": ({"pelvis": "mixamorig:Hips", "spine3": "mixamorig:Spine2", "left_foot": "mixamorig:LeftToeBase",
                "right_collar": "mixamorig:RightShoulder", "left_wrist": "mixamorig:LeftHand"}, []),
    "rigify": ({"pelvis": "spine", "neck": "spine.004", "head": "spine.006", "left_knee": "shin.L",
                "right_shoulder": "upper_arm.R"}, ["spine.005"]),
    "unreal": ({"pelvis": "pelvis", "spine1": "spine_01", "left_ankle": "foot_l", "right_foot": "ball_r",
                "left_elbow": "lowerarm_l"}, ["root"]),
    "smpl": ({"pelvis": "Pelvis", "spine3": "Spine3", "left_hip": "L_Hip", "right_wrist": "R_Wrist"}, []),
}


@pytest.fixture
def npz(swinging_joints, tmp_path: Path) -> Path:
    save_npz(Motion(swinging_joints, text="swing"), tmp_path / "swing.npz")
    return tmp_path / "swing.npz"


@pytest.mark.parametrize("rig", list(RIGS))
def test_bvh_bones_carry_the_rig_names_and_the_joints_stay(cli, npz: Path, tmp_path: Path, rig: str) -> None:
    code, output = cli("convert", npz, tmp_path / "r.bvh", "--rig", rig)
    bvh = read_bvh_skeleton(tmp_path / "r.bvh")
    bones = [n for n in bvh.names if not n.endswith("_end")]
    names, added = EXPECTED[rig]
    assert code == 0 and (f"--rig {rig} added the bones {', '.join(added)} (they move no joint)" in output) == bool(added)
    assert len(bones) == 22 + len(added) and set(added) <= set(bones)
    assert len(set(bones)) == len(bones) and set(names.values()) <= set(bones)
    mapped = [bvh.names.index(name) for name in RIGS[rig].names]
    assert [RIGS[rig].names[skeleton.JOINT_INDEX[j]] for j in names] == list(names.values())
    positions = global_positions(bvh)[:, mapped]
    joints = np.load(npz)["joints"]
    assert np.linalg.norm(positions - joints, axis=-1).max() < 2e-5  # the file's 6 decimals
    if rig == "unreal":  # the added root stays on the floor at the origin
        assert np.abs(global_positions(bvh)[:, bvh.names.index("root")]).max() == 0.0
    if rig == "rigify":  # the added neck bone halves the neck, on every frame
        middle = global_positions(bvh)[:, bvh.names.index("spine.005")]
        halfway = 0.5 * (joints[:, skeleton.JOINT_INDEX["neck"]] + joints[:, skeleton.JOINT_INDEX["head"]])
        assert np.linalg.norm(middle - halfway, axis=-1).max() < 2e-5


@pytest.mark.parametrize("rig", list(RIGS))
def test_glb_nodes_carry_the_rig_names_and_replay_the_joints(cli, npz: Path, tmp_path: Path, rig: str) -> None:
    assert cli("convert", npz, tmp_path / "r.glb", "--rig", rig)[0] == 0
    document, binary = read_glb(tmp_path / "r.glb")
    nodes = [n["name"] for n in document["nodes"]]
    names, added = EXPECTED[rig]
    assert nodes[-1] == "body" and len(nodes) == 23 + len(added) and set(added) <= set(nodes)
    assert document["skins"][0]["joints"] == list(range(len(nodes) - 1))
    positions = node_transforms(document, binary)[1][:, [nodes.index(n) for n in RIGS[rig].names]]
    assert np.linalg.norm(positions - np.load(npz)["joints"], axis=-1).max() < 1e-5  # float32


def test_every_rig_reads_back_onto_the_joints_of_the_default_names(cli, cmu_excerpt: Path, tmp_path: Path) -> None:
    """Without ``--rig`` the bones keep our joint names; with any rig our BVH reader maps the file
    back onto the same joints (renaming and the added bones move nothing)."""
    assert cli("convert", cmu_excerpt, tmp_path / "d.bvh")[0] == 0
    bvh = read_bvh_skeleton(tmp_path / "d.bvh")
    assert sorted(n for n in bvh.names if not n.endswith("_end")) == sorted(skeleton.JOINT_NAMES)
    default = read_bvh(tmp_path / "d.bvh").joints
    for rig in RIGS:
        assert cli("convert", cmu_excerpt, tmp_path / f"{rig}.bvh", "--rig", rig)[0] == 0
        assert np.abs(read_bvh(tmp_path / f"{rig}.bvh").joints - default).max() < 1e-3, rig


@pytest.mark.parametrize(("out", "rig", "message"), [
    ("r.bvh", "maya", "unknown rig 'maya' (known: mixamo, rigify, unreal, smpl)"),
    ("r.npz", "mixamo", "r.npz: --rig applies to .bvh, .glb, .gltf, .fbx files, not '.npz'"),
])
def test_bad_rig_exits_2_with_one_line_and_no_file(cli, npz: Path, tmp_path: Path, out: str, rig: str,
                                                   message: str) -> None:
    code, output = cli("convert", npz, tmp_path / out, "--rig", rig)
    assert code == 2 and message in output and output.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swing.npz"]
