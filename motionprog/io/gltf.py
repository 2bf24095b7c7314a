"""glTF 2.0 export (.glb binary or .gltf with an embedded buffer): a joint hierarchy and its animation.

Layout of the file:

- nodes 0..21 are the 22 joints in skeleton order, named as ``skeleton.JOINT_NAMES``, each the
  child of its skeleton parent (node 0, the pelvis, is the scene's root); every joint node with
  children carries a stick mesh (a thin cylinder to each child) so viewers show the body;
- one animation with a rotation channel for every joint and translation channels for the root
  (the pelvis position) and for the joints whose offset from their parent moves (the first
  bones leaving the pelvis and spine3), sampled at every motion frame (LINEAR);
- scene ``extras``: ``{"text", "fps", "frames"}``.

Rotations come from :func:`motionprog.body.kinematics.inverse_kinematics`. That module rotates
*bones* (the rotation at joint ``j`` turns the bone parent(j) -> j); a glTF node rotates its
children, so each joint node takes the global rotation of the bone that continues its chain
(the pelvis takes the heading, leaves keep their parent's rotation). Constant offsets use the
motion's median bone lengths, so the animated joints reproduce the motion exactly when its bone
lengths do not drift. Units are metres, Y up, +Z forward: glTF's own convention.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
import trimesh

from motionprog.body.kinematics import global_from_local, inverse_kinematics
from motionprog.body.rotations import quat_inverse, quat_multiply, quat_rotate
from motionprog.body.skeleton import CHAINS, JOINT_NAMES, NUM_JOINTS, PARENTS, RAW_OFFSETS
from motionprog.errors import InputError
from motionprog.io.atomic import write_bytes, write_text
from motionprog.motion import Motion

GLB_MAGIC = 0x46546C67  # b"glTF"
CHUNK_JSON = 0x4E4F534A  # b"JSON"
CHUNK_BIN = 0x004E4942  # b"BIN\0"
STICK_RADIUS = 0.02
"""Radius of the stick meshes, metres."""


def _continuation() -> tuple[int, ...]:
    """For each joint, the child whose bone carries its rotation (-1: the root or a leaf)."""
    following = [-1] * NUM_JOINTS
    for chain in CHAINS:
        for joint, child in zip(chain[1:-1], chain[2:]):
            following[joint] = child
    return tuple(following)


CONTINUATION: tuple[int, ...] = _continuation()
"""Joint whose bone rotation each joint node takes (``-1`` for the pelvis and the five leaves)."""


def node_world_rotations(joints: torch.Tensor) -> torch.Tensor:
    """World rotation of each joint node, quaternions w first [..., T, 22, 4] from joints [..., T, 22, 3].

    A node takes the rotation of the bone that continues its chain (shortest arc from the rest
    direction ``skeleton.RAW_OFFSETS``), the pelvis the heading, a leaf its parent's rotation.
    """
    local, _ = inverse_kinematics(joints)
    bone = global_from_local(local)  # bone[..., 0] is the heading
    world = bone[..., [CONTINUATION[j] if CONTINUATION[j] >= 0 else 0 for j in range(NUM_JOINTS)], :]
    leaves = [j for j in range(1, NUM_JOINTS) if CONTINUATION[j] < 0]
    world[..., leaves, :] = world[..., [PARENTS[j] for j in leaves], :]
    return world


def node_animation(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local rotations and translations of the joint nodes.

    joints: [T, 22, 3] metres. Returns ``rotations`` float32 [T, 22, 4] (x, y, z, w: glTF order),
    ``translations`` float32 [T, 22, 3] (metres, in the parent node's frame; the root's is the
    pelvis position) and ``animated`` bool [22]: whether a joint's translation changes over time
    (otherwise ``translations[0]`` holds its constant offset, from the median bone length).
    """
    pose = torch.as_tensor(np.asarray(joints), dtype=torch.float64)
    world = node_world_rotations(pose)
    parents = list(PARENTS[1:])
    parent_inv = quat_inverse(world[:, parents])
    rotations = torch.cat([world[:, :1], quat_multiply(parent_inv, world[:, 1:])], 1)
    offsets = quat_rotate(parent_inv, pose[:, 1:] - pose[:, parents])  # [T, 21, 3]
    carried = torch.tensor([CONTINUATION[PARENTS[j]] == j for j in range(1, NUM_JOINTS)])
    length = torch.linalg.vector_norm(pose[:, 1:] - pose[:, parents], dim=-1).median(0).values
    constant = torch.as_tensor(RAW_OFFSETS[1:], dtype=torch.float64) * length[:, None]
    offsets = torch.where(carried[None, :, None], constant.expand_as(offsets), offsets)
    translations = torch.cat([pose[:, :1], offsets], 1)
    animated = torch.cat([torch.tensor([True]), ~carried])
    xyzw = torch.cat([rotations[..., 1:], rotations[..., :1]], -1)
    return xyzw.float().numpy(), translations.float().numpy(), animated.numpy()


class _Buffer:
    """One binary buffer with its bufferViews and accessors, 4-byte aligned."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (float32 or uint32) and return its accessor index."""
        component = {np.dtype(np.float32): 5126, np.dtype(np.uint32): 5125}[array.dtype]
        self.data.extend(b"\0" * (-len(self.data) % 4))
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": array.nbytes}
        if target is not None:
            view["target"] = target
        self.data.extend(np.ascontiguousarray(array).tobytes())
        self.views.append(view)
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[kind]
        accessor: dict[str, Any] = {"bufferView": len(self.views) - 1, "componentType": component,
                                    "count": int(array.size // width), "type": kind}
        if bounds:
            flat = array.reshape(-1, width)
            accessor["min"], accessor["max"] = flat.min(0).tolist(), flat.max(0).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def _stick_mesh(buffer: _Buffer, offsets: np.ndarray) -> dict[str, Any]:
    """A glTF mesh of cylinders from the node's origin to each child offset ([K, 3] metres)."""
    sticks = trimesh.util.concatenate(
        [trimesh.creation.cylinder(STICK_RADIUS, segment=np.stack([np.zeros(3), o]), sections=8) for o in offsets]
    )
    attributes = {
        "POSITION": buffer.add(np.asarray(sticks.vertices, np.float32), "VEC3", 34962, bounds=True),
        "NORMAL": buffer.add(np.asarray(sticks.vertex_normals, np.float32), "VEC3", 34962),
    }
    indices = buffer.add(np.asarray(sticks.faces, np.uint32).ravel(), "SCALAR", 34963)
    return {"primitives": [{"attributes": attributes, "indices": indices, "material": 0}]}


def gltf_document(motion: Motion) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON document and its binary buffer for ``motion`` (see the module docstring)."""
    rotations, translations, animated = node_animation(motion.joints)
    buffer = _Buffer()
    children = [[c for c in range(NUM_JOINTS) if PARENTS[c] == j] for j in range(NUM_JOINTS)]
    meshes, nodes = [], []
    for j in range(NUM_JOINTS):
        node: dict[str, Any] = {"name": JOINT_NAMES[j], "translation": translations[0, j].tolist(),
                                "rotation": rotations[0, j].tolist()}
        if children[j]:
            node["children"] = children[j]
            node["mesh"] = len(meshes)
            meshes.append(_stick_mesh(buffer, translations[0, children[j]]))
        nodes.append(node)
    times = buffer.add((np.arange(motion.num_frames) / motion.fps).astype(np.float32), "SCALAR", bounds=True)
    samplers, channels = [], []
    for j in range(NUM_JOINTS):
        tracks = [("rotation", rotations[:, j], "VEC4")]
        if animated[j]:
            tracks.append(("translation", translations[:, j], "VEC3"))
        for path, values, kind in tracks:
            samplers.append({"input": times, "output": buffer.add(values, kind), "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": j, "path": path}})
    buffer.data.extend(b"\0" * (-len(buffer.data) % 4))
    document = {
        "asset": {"version": "2.0", "generator": "motionprog"},
        "scene": 0,
        "scenes": [{"name": motion.text or "motion", "nodes": [0],
                    "extras": {"text": motion.text, "fps": motion.fps, "frames": motion.num_frames}}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": [{"name": "body", "pbrMetallicRoughness": {"baseColorFactor": [0.25, 0.5, 0.85, 1.0],
                                                                "metallicFactor": 0.0, "roughnessFactor": 0.7}}],
        "animations": [{"name": "motion", "samplers": samplers, "channels": channels}],
        "buffers": [{"byteLength": len(buffer.data)}],
        "bufferViews": buffer.views,
        "accessors": buffer.accessors,
    }
    return document, bytes(buffer.data)


def glb_bytes(document: dict[str, Any], binary: bytes) -> bytes:
    """A GLB container: 12-byte header, the JSON chunk (space-padded), the BIN chunk (zero-padded)."""
    text = json.dumps(document, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    length = 12 + 8 + len(text) + 8 + len(binary)
    return (struct.pack("<III", GLB_MAGIC, 2, length) + struct.pack("<II", len(text), CHUNK_JSON) + text
            + struct.pack("<II", len(binary), CHUNK_BIN) + binary)


def write_gltf(motion: Motion, path: str | os.PathLike) -> None:
    """Write ``motion`` as .glb (binary) or .gltf (JSON with a base64 buffer), atomically."""
    path = Path(path)
    document, binary = gltf_document(motion)
    if path.suffix.lower() == ".glb":
        write_bytes(path, glb_bytes(document, binary))
    elif path.suffix.lower() == ".gltf":
        document["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(binary).decode("ascii")
        write_text(path, json.dumps(document, separators=(",", ":")))
    else:
        raise InputError(f"{path}: glTF files end in .glb or .gltf, not {path.suffix!r}")
