"""glTF 2.0 export (.glb binary or .gltf with an embedded buffer): a skinned armature and its animation.

Layout of the file:

- the first nodes are the bones of the armature (``rigs.bone_layout``): without a rig map the
  22 joints of the rig in skeleton order, named as ``skeleton.JOINT_NAMES``, each the child of
  its skeleton parent; node 0, the pelvis (or the root bone a rig map adds), is a scene root.
  Their own translation and rotation are the bind pose: the rig's T-pose
  (``skeleton.RIG_OFFSETS``, identity rotations) standing on the floor, pelvis 0.91 m above
  the origin;
- the last node, ``body``, is the capsule body (``body.segments.CAPSULES``) in the bind pose,
  skinned to the bones (``skins[0]``: every bone and its inverse bind matrix). Each vertex
  follows one joint rigidly: the joint whose node carries the nearest bone;
- one animation, ``motion``, with a rotation channel for every joint's bone (the motion's rig
  rotations, ``Motion.rig_rotations``) and a translation channel for the pelvis, keyed at every
  frame (times ``frame / fps``, LINEAR); bones a rig map adds are not animated;
- scene ``extras``: ``{"text", "fps", "frames"}``.

Units are metres, Y up, +Z forward: glTF's own convention. Quaternions are written (x, y, z, w).
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from motionprog.body.skeleton import NUM_JOINTS, PARENTS, RIG_REST_POSITIONS
from motionprog.errors import InputError
from motionprog.body.segments import CAPSULE_END, CAPSULE_RADII, CAPSULE_START
from motionprog.io.atomic import write_bytes, write_text
from motionprog.io.rigs import DEFAULT_RIG, BoneLayout, RigMap, bone_layout
from motionprog.motion import Motion

GLB_MAGIC = 0x46546C67  # b"glTF"
CHUNK_JSON = 0x4E4F534A  # b"JSON"
CHUNK_BIN = 0x004E4942  # b"BIN\0"
COMPONENT_TYPES = {np.dtype(np.float32): 5126, np.dtype(np.uint32): 5125, np.dtype(np.uint16): 5123}
WIDTHS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


class _Buffer:
    """One binary buffer with its bufferViews and accessors, 4-byte aligned."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(self, array: np.ndarray, kind: str, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (float32, uint32 or uint16) and return its accessor index."""
        self.data.extend(b"\0" * (-len(self.data) % 4))
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": array.nbytes}
        if target is not None:
            view["target"] = target
        self.data.extend(np.ascontiguousarray(array).tobytes())
        self.views.append(view)
        width = WIDTHS[kind]
        accessor: dict[str, Any] = {"bufferView": len(self.views) - 1, "componentType": COMPONENT_TYPES[array.dtype],
                                    "count": int(array.size // width), "type": kind}
        if bounds:
            flat = array.reshape(-1, width)
            accessor["min"], accessor["max"] = flat.min(0).tolist(), flat.max(0).tolist()
        self.accessors.append(accessor)
        return len(self.accessors) - 1


def _segment_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance [P, S] from each point [P, 3] to each segment a[S, 3] - b[S, 3]."""
    ab = b - a
    t = np.clip(((points[:, None] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points[:, None] - (a + t[..., None] * ab), axis=-1)


def body_mesh() -> tuple[trimesh.Trimesh, np.ndarray]:
    """The capsule body in the bind pose and the joint each vertex follows ([V] int).

    A bone parent(j) -> j is carried by node parent(j), so a vertex follows the parent joint
    of its nearest bone.
    """
    rest = RIG_REST_POSITIONS
    parts = []
    for a, b, radius in zip(CAPSULE_START @ rest, CAPSULE_END @ rest, CAPSULE_RADII):
        axis = b - a
        part = trimesh.creation.capsule(height=float(np.linalg.norm(axis)), radius=float(radius), count=[12, 8])
        part.apply_transform(trimesh.geometry.align_vectors([0.0, 0.0, 1.0], axis))
        part.apply_translation(0.5 * (a + b))
        parts.append(part)
    body = trimesh.util.concatenate(parts)
    bones = np.arange(1, NUM_JOINTS)
    nearest = _segment_distances(np.asarray(body.vertices), rest[list(PARENTS[1:])], rest[bones]).argmin(1)
    return body, np.asarray(PARENTS[1:])[nearest]


def _skinned_body(buffer: _Buffer, layout: BoneLayout) -> tuple[dict[str, Any], dict[str, Any]]:
    """The glTF mesh of :func:`body_mesh` with JOINTS_0 / WEIGHTS_0, and its skin over ``layout``."""
    body, joint = body_mesh()
    joints = np.zeros((len(joint), 4), np.uint16)
    joints[:, 0] = np.array([layout.bone_of(j) for j in range(NUM_JOINTS)])[joint]
    weights = np.zeros((len(joint), 4), np.float32)
    weights[:, 0] = 1.0
    attributes = {
        "POSITION": buffer.add(np.asarray(body.vertices, np.float32), "VEC3", 34962, bounds=True),
        "NORMAL": buffer.add(np.asarray(body.vertex_normals, np.float32), "VEC3", 34962),
        "JOINTS_0": buffer.add(joints, "VEC4", 34962),
        "WEIGHTS_0": buffer.add(weights, "VEC4", 34962),
    }
    indices = buffer.add(np.asarray(body.faces, np.uint32).ravel(), "SCALAR", 34963)
    inverse_bind = np.tile(np.eye(4, dtype=np.float32), (len(layout.names), 1, 1))
    inverse_bind[:, :3, 3] = -layout.rest_positions()  # bind pose: identity rotations, so only a shift
    skin = {"name": "rig", "joints": list(range(len(layout.names))), "skeleton": 0,
            "inverseBindMatrices": buffer.add(inverse_bind.transpose(0, 2, 1).copy(), "MAT4")}  # column-major
    mesh = {"name": "body", "primitives": [{"attributes": attributes, "indices": indices, "material": 0}]}
    return mesh, skin


def _animation(buffer: _Buffer, motion: Motion, layout: BoneLayout) -> dict[str, Any]:
    """One animation: every joint's rig rotation and the pelvis position at every frame.

    The pelvis's parent, if any, is an added root at the origin, so its translation is the
    pelvis position."""
    local = motion.rig_rotations()
    xyzw = np.ascontiguousarray(np.concatenate([local[..., 1:], local[..., :1]], -1), np.float32)
    times = buffer.add((np.arange(motion.num_frames) / motion.fps).astype(np.float32), "SCALAR", bounds=True)
    tracks = [(layout.bone_of(j), "rotation", xyzw[:, j], "VEC4") for j in range(NUM_JOINTS)]
    tracks.append((layout.bone_of(0), "translation", motion.joints[:, 0].astype(np.float32), "VEC3"))
    samplers, channels = [], []
    for node, path, values, kind in tracks:
        samplers.append({"input": times, "output": buffer.add(values, kind), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})
    return {"name": "motion", "samplers": samplers, "channels": channels}


def gltf_document(motion: Motion, rig: RigMap = DEFAULT_RIG) -> tuple[dict[str, Any], bytes]:
    """The glTF JSON document and its binary buffer for ``motion``, bones named by ``rig``
    (see the module docstring)."""
    layout = bone_layout(rig)
    buffer = _Buffer()
    animation = _animation(buffer, motion, layout)
    mesh, skin = _skinned_body(buffer, layout)
    nodes: list[dict[str, Any]] = []
    for bone, name in enumerate(layout.names):
        node: dict[str, Any] = {"name": name, "translation": layout.offsets[bone].tolist()}
        children = [c for c, p in enumerate(layout.parents) if p == bone]
        if children:
            node["children"] = children
        nodes.append(node)
    nodes.append({"name": "body", "mesh": 0, "skin": 0})
    buffer.data.extend(b"\0" * (-len(buffer.data) % 4))
    document = {
        "asset": {"version": "2.0", "generator": "motionprog"},
        "scene": 0,
        "scenes": [{"name": motion.text or "motion", "nodes": [0, len(layout.names)],
                    "extras": {"text": motion.text, "fps": motion.fps, "frames": motion.num_frames}}],
        "nodes": nodes,
        "meshes": [mesh],
        "skins": [skin],
        "materials": [{"name": "body", "pbrMetallicRoughness": {"baseColorFactor": [0.25, 0.5, 0.85, 1.0],
                                                                "metallicFactor": 0.0, "roughnessFactor": 0.7}}],
        "animations": [animation],
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


def write_gltf(motion: Motion, path: str | os.PathLike, rig: RigMap = DEFAULT_RIG) -> None:
    """Write ``motion`` as .glb (binary) or .gltf (JSON with a base64 buffer), bones named by
    ``rig``, atomically."""
    path = Path(path)
    if path.suffix.lower() not in (".glb", ".gltf"):
        raise InputError(f"{path}: glTF files end in .glb or .gltf, not {path.suffix!r}")
    document, binary = gltf_document(motion, rig)
    if path.suffix.lower() == ".glb":
        write_bytes(path, glb_bytes(document, binary))
    else:
        document["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(binary).decode("ascii")
        write_text(path, json.dumps(document, separators=(",", ":")))
