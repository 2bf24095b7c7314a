"""glTF/GLB export: parse the file back, replay the node hierarchy and animation, compare joints."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from motionprog.body.skeleton import JOINT_NAMES, PARENTS
from motionprog.errors import InputError
from motionprog.io.gltf import GLB_MAGIC, write_gltf
from motionprog.motion import Motion, save_npz

COMPONENTS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}


def _accessor(document: dict, binary: bytes, index: int) -> np.ndarray:
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    dtype = {5126: np.float32, 5125: np.uint32}[accessor["componentType"]]
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


def replay(document: dict, binary: bytes) -> np.ndarray:
    """Joint positions [T, 22, 3] from the glTF nodes and animation (glTF's own FK, in numpy)."""
    nodes = document["nodes"]
    animation = document["animations"][0]
    frames = len(_accessor(document, binary, animation["samplers"][0]["input"]))
    rotation = np.array([n["rotation"] for n in nodes], dtype=np.float64)[None].repeat(frames, 0)
    translation = np.array([n["translation"] for n in nodes], dtype=np.float64)[None].repeat(frames, 0)
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
    return world_t


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
    assert [n["name"] for n in document["nodes"]] == list(JOINT_NAMES)
    assert all(PARENTS[c] == j for j, n in enumerate(document["nodes"]) for c in n.get("children", []))
    times = _accessor(document, binary, document["animations"][0]["samplers"][0]["input"])[:, 0]
    assert np.allclose(times, np.arange(24) / 20.0)
    error = np.linalg.norm(replay(document, binary) - motion.joints, axis=-1).max()
    assert error < 1e-3, error
    assert error < 1e-5  # exact up to float32 when bone lengths are constant


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
    assert len(scene.geometry) == sum(1 for j in range(22) if j in PARENTS)  # a stick mesh per joint with children


def test_unknown_extension_writes_nothing(motion: Motion, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.fbx"):
        write_gltf(motion, tmp_path / "m.fbx")
    assert not (tmp_path / "m.fbx").exists()


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
    assert error.max() < 1e-3 and error.mean() < 1e-5  # measured: max 1.7e-6 m, mean 1e-7 m
