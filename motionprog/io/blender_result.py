"""A motion as the Blender add-on reads it: plain JSON in Blender's axes, so Blender needs
neither numpy nor its glTF or BVH importer to bring it in.

The document (``blender_result``) holds the armature and pose of the glTF export
(:mod:`motionprog.io.gltf`):

- ``bones``: the rig's 22 bones (``rigs.bone_layout``), parents first, each ``{"name",
  "parent", "offset"}``: its bind-pose offset from its parent's head (the pelvis's: its rest
  position), metres;
- ``rotations`` [T][22][4]: each bone's rotation relative to its parent (the pelvis's relative
  to the armature), quaternions (w, x, y, z): ``Motion.rig_rotations``. A frame's quaternion
  has the sign that keeps it on the side of the previous frame's, so interpolating the
  components between frames takes the short way;
- ``root`` [T][3]: the pelvis position at every frame;
- ``body``: the glTF export's capsule body in the bind pose: ``vertices``, ``faces``, and
  ``bones``, the bone each vertex follows rigidly;
- ``fps``, ``frames``, ``text``.

Posing: bone j's world rotation is ``W[j] = W[parent] L[j]`` and its head is
``head[parent] + W[parent] offset[j]`` (``kinematics.rig_joints``), which puts every head on the
motion's joint. Axes: an engine point (x, y, z) (Y up, +Z forward) is Blender's (x, -z, y) (Z up,
-Y forward), and a quaternion (w, v) becomes (w, C v) with the same signed permutation C: both
exact. Positions are rounded to the micrometre and quaternion components to 1e-7.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from motionprog.io.gltf import body_mesh
from motionprog.io.rigs import bone_layout
from motionprog.motion import Motion


def blender_axes(vectors: np.ndarray) -> np.ndarray:
    """Engine points or directions ``[..., 3]`` (Y up) in Blender's axes (Z up): (x, -z, y)."""
    x, y, z = np.moveaxis(np.asarray(vectors, np.float64), -1, 0)
    return np.stack([x, -z + 0.0, y], -1)  # + 0.0 turns -0.0 into 0.0


def sign_continuous(quaternions: np.ndarray) -> np.ndarray:
    """``quaternions [T, J, 4]`` with each frame's sign flipped where it is on the other side
    of the previous frame's (the same rotations)."""
    turned = np.array(quaternions, np.float64)
    for frame in range(1, len(turned)):
        flip = (turned[frame] * turned[frame - 1]).sum(-1) < 0
        turned[frame, flip] *= -1.0
    return turned


def blender_result(motion: Motion) -> dict[str, Any]:
    """The JSON document of ``motion`` for the Blender add-on (see the module docstring)."""
    layout = bone_layout()
    local = sign_continuous(motion.rig_rotations())
    rotations = np.concatenate([local[..., :1], blender_axes(local[..., 1:])], -1)
    body, joint = body_mesh()
    bones = [{"name": name, "parent": parent, "offset": np.round(blender_axes(offset), 6).tolist()}
             for name, parent, offset in zip(layout.names, layout.parents, layout.offsets)]
    return {
        "fps": float(motion.fps), "frames": motion.num_frames, "text": motion.text, "bones": bones,
        "rotations": np.round(rotations, 7).tolist(),
        "root": np.round(blender_axes(motion.joints[:, 0]), 6).tolist(),
        "body": {"vertices": np.round(blender_axes(body.vertices), 6).tolist(),
                 "faces": np.asarray(body.faces).tolist(),
                 "bones": [layout.bone_of(int(j)) for j in joint]},
    }
