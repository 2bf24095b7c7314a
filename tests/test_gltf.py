"""glTF/GLB export: parse the file back, replay the node hierarchy and animation, compare joints."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_NAMES, PARENTS, RIG_REST_POSITIONS
from motionprog.errors import InputError
from motionprog.io.gltf import GLB_MAGIC, write_gltf
from motionprog.motion import Motion, save_npz

COMPONENTS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def _accessor(document: dict, binary: bytes, index: int) -> np.ndarray:
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    dtype = {5126: np.float32, 5125: np.uint32, 5123: np.uint16}[accessor["componentType"]]
    width = COMPONENTS[accessor["type"]]
    data = np.frombuffer(binary, dtype, accessor["count"] * width, view["byteOffset"] + accessor.get("byteOffset", 0))
    return data.reshape(accessor["count"], width)


def _quat_matrix(q: np.ndarray) -> np.ndarray:
    """[..., 4] (x, y, z, w) -> [..., 3, 3]."""
    x, y, z, w = np.moveaxis(q / np.linalg.norm(q, axis=-1, keepdims=True), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def node_transforms(document: dict, binary: bytes) -> tuple[np.ndarray, np.ndarray]:
    """World rotations [T, N, 3, 3] and positions [T, N, 3] of every node over the animation's
    keys (glTF's own node transforms, in numpy)."""
    nodes = document["nodes"]
    animation = document["animations"][0]
    frames = len(_accessor(document, binary, animation["samplers"][0]["input"]))
    rotation = np.array([n.get("rotation", [0, 0, 0, 1]) for n in nodes], dtype=np.float64)[None].repeat(frames, 0)
    translation = np.array([n.get("translation", [0, 0, 0]) for n in nodes], dtype=np.float64)[None].repeat(frames, 0)
    for channel in animation["channels"]:
        values = _accessor(document, binary, animation["samplers"][channel["sampler"]]["output"])
        target = rotation if channel["target"]["path"] == "rotation" else translation
        target[:, channel["target"]["node"]] = values
    parent_of = {c: j for j, n in enumerate(nodes) for c in n.get("children", [])}
    world_r = np.zeros((frames, len(nodes), 3, 3))
    world_t = np.zeros((frames, len(nodes), 3))
    for j in range(len(nodes)):  # parents precede children in the skeleton order
        local_r = _quat_matrix(rotation[:, j])
        if j in parent_of:
            p = parent_of[j]
            world_t[:, j] = world_t[:, p] + np.einsum("tij,tj->ti", world_r[:, p], translation[:, j])
            world_r[:, j] = world_r[:, p] @ local_r
        else:
            world_t[:, j], world_r[:, j] = translation[:, j], local_r
    return world_r, world_t


def replay(document: dict, binary: bytes) -> np.ndarray:
    """Joint positions [T, 22, 3] from the glTF nodes and animation."""
    return node_transforms(document, binary)[1][:, :22]


def read_glb(path: Path) -> tuple[dict, bytes]:
    """The JSON document and BIN chunk of a .glb file (header, JSON chunk, BIN chunk)."""
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<III", data)
    assert (magic, version, length) == (GLB_MAGIC, 2, len(data))
    json_length, _ = struct.unpack_from("<II", data, 12)
    bin_length, _ = struct.unpack_from("<II", data, 20 + json_length)
    return json.loads(data[20 : 20 + json_length]), data[28 + json_length : 28 + json_length + bin_length]


@pytest.fixture
def motion(swinging_joints) -> Motion:
    return Motion(swinging_joints, text="swing")


def test_glb_replays_the_motion_within_a_millimetre(motion: Motion, tmp_path: Path) -> None:
    write_gltf(motion, tmp_path / "m.glb")
    document, binary = read_glb(tmp_path / "m.glb")
    assert [n["name"] for n in document["nodes"]] == [*JOINT_NAMES, "body"]
    assert all(PARENTS[c] == j for j, n in enumerate(document["nodes"]) for c in n.get("children", []))
    times = _accessor(document, binary, document["animations"][0]["samplers"][0]["input"])[:, 0]
    assert np.allclose(times, np.arange(24) / 20.0)
    error = np.linalg.norm(replay(document, binary) - motion.joints, axis=-1).max()
    assert error < 1e-5, error  # a rig pose: exact up to float32


def test_glb_is_one_skinned_armature_bound_in_a_t_pose(motion: Motion, tmp_path: Path) -> None:
    write_gltf(motion, tmp_path / "m.glb")
    document, binary = read_glb(tmp_path / "m.glb")
    (skin,) = document["skins"]
    assert skin["joints"] == list(range(22)) and document["nodes"][22] == {"name": "body", "mesh": 0, "skin": 0}
    assert document["scenes"][0]["nodes"] == [0, 22] and len(document["animations"]) == 1
    paths = sorted((c["target"]["node"], c["target"]["path"]) for c in document["animations"][0]["channels"])
    assert paths == sorted([(j, "rotation") for j in range(22)] + [(0, "translation")])
    # The nodes' own transforms are the bind pose: the rig's T-pose standing on the floor.
    bind = {**document, "animations": [{"samplers": [{"input": 0}], "channels": []}]}
    _, bind_positions = node_transforms(bind, binary)
    assert np.allclose(bind_positions[0, :22], RIG_REST_POSITIONS, atol=1e-6)
    inverse_bind = _accessor(document, binary, skin["inverseBindMatrices"]).reshape(22, 4, 4).transpose(0, 2, 1)
    assert np.allclose(inverse_bind[:, :3, 3], -RIG_REST_POSITIONS, atol=1e-6)
    # Linear blend skinning with the file's data: each vertex rides its joint rigidly.
    primitive = document["meshes"][0]["primitives"][0]["attributes"]
    vertices = _accessor(document, binary, primitive["POSITION"]).astype(np.float64)
    joint = _accessor(document, binary, primitive["JOINTS_0"])[:, 0].astype(int)
    assert np.all(_accessor(document, binary, primitive["WEIGHTS_0"]) == [1, 0, 0, 0])
    rotations, positions = node_transforms(document, binary)
    rest = np.einsum("vab,vb->va", inverse_bind[joint, :3, :3], vertices) + inverse_bind[joint, :3, 3]
    skinned = np.einsum("tvab,vb->tva", rotations[:, joint], rest) + positions[:, joint]
    assert len(vertices) > 1000 and vertices[:, 1].min() > -0.051  # ankles on the floor, 5 cm capsules round them
    distance = np.linalg.norm(skinned - motion.joints[:, joint], axis=-1)
    assert np.abs(distance - np.linalg.norm(vertices - RIG_REST_POSITIONS[joint], axis=-1)).max() < 1e-5


def test_a_motion_off_the_rig_exports_as_its_projection(motion: Motion, tmp_path: Path) -> None:
    import torch

    from motionprog.body.kinematics import project_to_skeleton

    stretched = motion.joints * np.float32(1.1)  # every bone 10 % long, the root path too
    write_gltf(Motion(stretched), tmp_path / "m.glb")
    expected = project_to_skeleton(torch.as_tensor(stretched, dtype=torch.float64)).numpy()
    assert np.linalg.norm(replay(*read_glb(tmp_path / "m.glb")) - expected, axis=-1).max() < 1e-5


def test_gltf_text_file_has_the_same_content(motion: Motion, tmp_path: Path) -> None:
    write_gltf(motion, tmp_path / "m.gltf")
    document = json.loads((tmp_path / "m.gltf").read_text())
    binary = base64.b64decode(document["buffers"][0]["uri"].split(",", 1)[1])
    assert np.linalg.norm(replay(document, binary) - motion.joints, axis=-1).max() < 1e-5


def test_trimesh_loads_the_glb(motion: Motion, tmp_path: Path) -> None:
    import trimesh

    write_gltf(motion, tmp_path / "m.glb")
    scene = trimesh.load(tmp_path / "m.glb")
    assert set(JOINT_NAMES) <= set(scene.graph.nodes)
    assert len(scene.geometry) == 1  # the one skinned body


def test_unknown_extension_writes_nothing(motion: Motion, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.fbx"):
        write_gltf(motion, tmp_path / "m.fbx")
    assert not (tmp_path / "m.fbx").exists()
    with pytest.raises(InputError, match="cannot fit the skeleton at frame 0: pelvis's children coincide"):
        write_gltf(Motion(np.zeros((3, 22, 3))), tmp_path / "z.glb")
    assert not (tmp_path / "z.glb").exists()


def test_convert_cli_writes_glb(motion: Motion, tmp_path: Path, cli) -> None:
    save_npz(motion, tmp_path / "m.npz")
    status, output = cli("convert", tmp_path / "m.npz", tmp_path / "m.glb")
    assert status == 0, output
    document, binary = read_glb(tmp_path / "m.glb")
    assert np.linalg.norm(replay(document, binary) - motion.joints, axis=-1).max() < 1e-5


def test_humanml3d_sample_replays_within_a_millimetre(tmp_path: Path) -> None:
    from conftest import shared_path

    joints = np.load(shared_path("fixtures/humanml3d/012314_joints.npy"))
    write_gltf(Motion(joints), tmp_path / "s.glb")
    error = np.linalg.norm(replay(*read_glb(tmp_path / "s.glb")) - joints, axis=-1)
    assert error.max() < 1e-3  # measured 1.3e-4 m: the dataset's pelvis and chest are within that of the rig's


def test_optimised_motion_replays_within_a_millimetre(optimised_npz: Path, tmp_path: Path) -> None:
    import torch

    from motionprog.body.kinematics import project_to_skeleton
    from motionprog.motion import load_npz

    motion = load_npz(optimised_npz)
    joints = torch.as_tensor(motion.joints, dtype=torch.float64)
    assert (project_to_skeleton(joints) - joints).abs().max() < 1e-5  # the engine's output is a rig pose
    write_gltf(motion, tmp_path / "o.glb")
    error = np.linalg.norm(replay(*read_glb(tmp_path / "o.glb")) - motion.joints, axis=-1)
    assert error.max() < 1e-5, f"worst joint {error.max() * 1000:.4f} mm"


EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.mprog"))
QUICK = dict(seeds=1, candidates=0, iterations=5, polish_iterations=0, device="cpu")
"""A few iterations of one seed of each example on the bundled model: a real engine output (an
optimised motion with the rig's rotations), in about half a second. What the round trip checks
does not depend on how far the search went."""


@pytest.fixture(scope="module")
def example_outputs(tmp_path_factory, bundled_model) -> dict[str, Path]:
    """Every example solved briefly on the shipped model and saved as .npz (name -> path)."""
    from motionprog.motion import save_npz
    from motionprog.optimize import OptimizeConfig, generate

    folder = tmp_path_factory.mktemp("examples")
    outputs = {}
    for path in EXAMPLES:
        outputs[path.stem] = folder / f"{path.stem}.npz"
        save_npz(generate(path, model=bundled_model, config=OptimizeConfig(**QUICK)).motion, outputs[path.stem])
    return outputs


@pytest.mark.slow
@pytest.mark.parametrize("name", [path.stem for path in EXAMPLES])
def test_every_example_output_round_trips_through_bvh_and_glb(example_outputs, name, tmp_path):
    from motionprog.body import skeleton
    from motionprog.io.bvh import global_positions, read_bvh_skeleton, write_bvh
    from motionprog.motion import load_npz

    motion = load_npz(example_outputs[name])
    assert motion.rotations is not None  # the engine stores the rig's rotations: exports solve no IK
    write_gltf(motion, tmp_path / "o.glb")
    assert np.linalg.norm(replay(*read_glb(tmp_path / "o.glb")) - motion.joints, axis=-1).max() < 1e-3
    write_bvh(motion, tmp_path / "o.bvh")
    bvh = read_bvh_skeleton(tmp_path / "o.bvh")
    positions = global_positions(bvh)[:, [bvh.names.index(n) for n in skeleton.JOINT_NAMES]]
    assert np.linalg.norm(positions - motion.joints, axis=-1).max() < 1e-3
