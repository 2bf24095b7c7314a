"""SMPL / SMPL-H / SMPL-X bodies driven by a motion's rotations, through the ``smplx`` package.

Optional (``pip install 'motionprog[smpl]'``): the user gives the path of a model file they
have (``SMPL_NEUTRAL.pkl``, ``SMPLX_NEUTRAL.npz``, ...); nothing is ever downloaded. Model
files are checked before ``smplx`` opens them: an ``.npz`` must hold plain arrays (no pickled
objects), a ``.pkl`` is read with the restricted unpickler of :mod:`motionprog.io.pickles`
(numpy arrays and scipy sparse matrices only), so a file cannot run code. ``smplx`` then loads
a private copy of the checked bytes. Files that need more (official SMPL 1.0 pickles hold
``chumpy`` objects) are refused unless the caller passes ``trust_pickle=True``
(``render --trust-pickle``), which runs Python's unrestricted pickle on them.

The 22 joints of a motion are the first 22 joints of every SMPL-family model, in the same
order. The motion's rotations (:func:`motionprog.body.kinematics.rig_world_rotations`, from the
rig's T-pose) are re-based on the model's own rest pose (a T-pose too) by the shortest
arc between the two rest directions of each bone, so every bone that continues a chain points
exactly where the motion's bone points; hands, face and fingers keep their rest pose. Shape
coefficients are zero (the model's mean shape). Units are metres, Y up.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
import torch

from motionprog.body.rotations import quat_between, quat_inverse, quat_multiply, quat_to_axis_angle
from motionprog.body.kinematics import rig_world_rotations
from motionprog.body.skeleton import CHAIN_CHILD, NUM_JOINTS, PARENTS, RIG_DIRECTIONS
from motionprog.errors import InputError
from motionprog.io.limits import check_file_size
from motionprog.io.pickles import ARRAY_GLOBALS, UnsafePickle, restricted_loads
from motionprog.motion import Motion
from motionprog.numerics import safe_normalize

MODEL_TYPES = ("smpl", "smplh", "smplx")
"""Model families understood; the type is read from the file name unless given."""


@dataclass(frozen=True)
class BodyModel:
    """A loaded SMPL-family model at its mean shape.

    v_template [V, 3], shapedirs [V, 3, S], posedirs [P, V*3], J_regressor [J, V],
    lbs_weights [V, J], parents [J] (long, -1 at the root), faces int [F, 3]; float32 tensors.
    """

    kind: str
    v_template: torch.Tensor
    shapedirs: torch.Tensor
    posedirs: torch.Tensor
    J_regressor: torch.Tensor
    lbs_weights: torch.Tensor
    parents: torch.Tensor
    faces: np.ndarray

    @property
    def rest_joints(self) -> torch.Tensor:
        """Joint positions of the rest pose, [J, 3] metres."""
        return self.J_regressor @ self.v_template


SMPL_GLOBALS: dict[tuple[str, str], Any] = {
    **ARRAY_GLOBALS,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("builtins", "object"): object,
    **{(f"scipy.sparse.{module}", name): getattr(scipy.sparse, name)
       for module in ("csc", "_csc", "csr", "_csr") for name in ("csc_matrix", "csr_matrix")},
}
"""What a body-model pickle may name: numpy arrays, and scipy sparse matrices (the joint
regressor of SMPL files), rebuilt through ``copyreg`` on a bare ``object``."""
TRUST_HINT = "convert the file to .npz of plain arrays, or pass --trust-pickle if you trust it (that runs its code)"


def check_model_bytes(path: Path, data: bytes, kind: str) -> None:
    """InputError unless ``data`` (the ``kind`` model file at ``path``) loads without running code."""
    try:
        if path.suffix.lower() == ".npz":
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                for key in archive.files:
                    archive[key]
        else:
            restricted_loads(data, SMPL_GLOBALS, encoding="latin1")
    except UnsafePickle as exc:
        raise InputError(f"{path}: {exc} (body model files are loaded without running code; {TRUST_HINT})") from None
    except Exception as exc:  # numpy, zipfile and pickle raise many kinds on a bad file
        raise InputError(f"{path}: cannot load the {kind} model ({type(exc).__name__}: {exc})") from None


def load_body_model(path: str | os.PathLike, kind: str | None = None, trust_pickle: bool = False) -> BodyModel:
    """Load an SMPL-family model file (.pkl or .npz) with ``smplx``; InputError naming the file.

    kind: one of :data:`MODEL_TYPES`; None guesses it from the file name (``smplx`` / ``smplh``
    in the name, otherwise ``smpl``). trust_pickle: skip the check that the file loads
    without running code (only for files you trust: see the module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such body model file")
    name = path.name.lower()
    kind = kind or ("smplx" if "smplx" in name else "smplh" if "smplh" in name else "smpl")
    if kind not in MODEL_TYPES:
        raise InputError(f"unknown body model type {kind!r} (use {', '.join(MODEL_TYPES)})")
    try:
        import smplx
    except ImportError as exc:
        raise InputError("SMPL bodies need the smplx package: pip install 'motionprog[smpl]'") from exc
    check_file_size(path)
    data = path.read_bytes()
    if not trust_pickle:
        check_model_bytes(path, data, kind)
    options = {} if kind == "smpl" else {"ext": path.suffix.lstrip(".")}
    model_class = {"smpl": smplx.SMPL, "smplh": smplx.SMPLH, "smplx": smplx.SMPLX}[kind]
    try:
        with tempfile.TemporaryDirectory(prefix="motionprog-body-") as folder, \
                contextlib.redirect_stdout(io.StringIO()):  # smplx prints notes about shape spaces
            copy = Path(folder) / path.name  # the checked bytes, whatever happens to the file meanwhile
            copy.write_bytes(data)
            model = model_class(model_path=str(copy), **options)
    except Exception as exc:  # pickle, numpy and smplx raise many kinds on a bad file
        raise InputError(f"{path}: cannot load the {kind} model ({type(exc).__name__}: {exc})") from exc
    shapedirs = model.shapedirs
    if kind == "smplx":
        shapedirs = torch.cat([model.shapedirs, model.expr_dirs], dim=-1)
    return BodyModel(
        kind, model.v_template.float(), shapedirs.float(), model.posedirs.float(), model.J_regressor.float(),
        model.lbs_weights.float(), model.parents.long(), np.asarray(model.faces, dtype=np.int64),
    )


def model_pose(joints: torch.Tensor, model: BodyModel) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's pose for each frame: axis-angle [T, J, 3] (radians; joints past 22 at rest)
    and the translation [T, 3] (metres) that puts the model's pelvis on the motion's.

    joints: [T, 22, 3] metres (float64 recommended).
    """
    rest = model.rest_joints.to(joints.dtype)
    parents = model.parents.tolist()
    children = list(CHAIN_CHILD)
    chained = [j for j in range(NUM_JOINTS) if children[j] >= 0]
    model_dirs = safe_normalize(rest[[children[j] for j in chained]] - rest[chained])
    ours = torch.as_tensor(RIG_DIRECTIONS[[children[j] for j in chained]], dtype=joints.dtype)
    world = rig_world_rotations(joints)  # [T, 22, 4]
    world[:, chained] = quat_multiply(world[:, chained], quat_between(model_dirs, ours))
    leaves = [j for j in range(1, NUM_JOINTS) if children[j] < 0]
    world[:, leaves] = world[:, [PARENTS[j] for j in leaves]]
    local = torch.cat([world[:, :1], quat_multiply(quat_inverse(world[:, list(PARENTS[1:])]), world[:, 1:])], 1)
    pose = torch.zeros(joints.shape[0], len(parents), 3, dtype=joints.dtype)
    pose[:, :NUM_JOINTS] = quat_to_axis_angle(local)
    return pose, joints[:, 0] - rest[0]


def posed_meshes(motion: Motion, model: BodyModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model posed at every frame of ``motion`` by linear blend skinning.

    Returns vertices float32 [T, V, 3], the model's joints float32 [T, J, 3] (metres, Y up)
    and faces int64 [F, 3].
    """
    from smplx.lbs import lbs

    joints = torch.as_tensor(motion.joints, dtype=torch.float64)
    pose, translation = model_pose(joints, model)
    frames = joints.shape[0]
    betas = torch.zeros(frames, model.shapedirs.shape[-1])
    with torch.no_grad():
        vertices, posed = lbs(
            betas, pose.reshape(frames, -1).float(), model.v_template, model.shapedirs,
            model.posedirs, model.J_regressor, model.parents, model.lbs_weights,
        )
    shift = translation.float()[:, None]
    return (vertices + shift).numpy(), (posed + shift).numpy(), model.faces
