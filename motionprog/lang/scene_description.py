"""A scene described by an animation tool (Z up, any object names) -> program source.

The Blender add-on writes the scene as JSON in Blender's own axes (metres, Z up, -Y forward);
here every object becomes a ``scene`` entry in the engine's axes (Y up), named by a valid,
unique identifier, and the header and the user's constraint text are joined around it. The
result is plain program text, built with :mod:`motionprog.lang.builder`, that checks as usual.

Axis change: ours = (X, Z, -Y) for a Blender point (X, Y, Z). That is a signed permutation, so
points and sizes carry over exactly (no rounding); rotations become ``C R C^T`` and are then
written as Euler XYZ degrees, the language's convention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from motionprog.body.skeleton import ALIASES, GROUPS, JOINT_INDEX
from motionprog.errors import InputError
from motionprog.lang import ast
from motionprog.lang import builder as mb
from motionprog.lang.builtins import PARAMETERS
from motionprog.lang.calls import SMOOTH_FUNCTIONS
from motionprog.lang.checker import BODY_NAMES, reserved_words

Vector = Sequence[float]
Matrix = Sequence[Sequence[float]]

KINDS = ("point", "plane", "box", "sphere", "cylinder", "mesh")
"""Object kinds a description may hold (``line`` has no Blender counterpart)."""


def y_up(point: Vector) -> tuple[float, float, float]:
    """A Blender (Z up) point or direction in the engine's axes (Y up): (X, Z, -Y), exact."""
    x, y, z = (float(v) for v in point)
    return x, z, -y + 0.0  # + 0.0 turns -0.0 into 0.0


def y_up_rotation(rotation: Matrix) -> list[list[float]]:
    """A Blender rotation matrix in the engine's axes: ``C R C^T`` with C the axis change."""
    columns = [y_up(column) for column in zip(*rotation)]  # C R: each column moved
    moved = [list(row) for row in zip(*columns)]
    return [[moved[i][0], moved[i][2], -moved[i][1] + 0.0] for i in range(3)]  # (C R) C^T


def euler_xyz_degrees(rotation: Matrix) -> tuple[float, float, float]:
    """Euler XYZ angles (degrees) of ``rotation`` = Rz Ry Rx, as ``rotation = (...)`` reads them."""
    r = rotation
    ry = math.asin(max(-1.0, min(1.0, -r[2][0])))
    if abs(r[2][0]) < 1.0 - 1e-9:
        rx, rz = math.atan2(r[2][1], r[2][2]), math.atan2(r[1][0], r[0][0])
    else:  # gimbal lock: only rx -/+ rz is defined; put it all in rz
        rx, rz = 0.0, math.atan2(-r[0][1], r[1][1])
    return tuple(math.degrees(a) for a in (rx, ry, rz))


def _free(identifier: str) -> bool:
    """Whether ``identifier`` can name a scene object: not a reserved word, built-in or body name."""
    return not (identifier in JOINT_INDEX or identifier in ALIASES or identifier in GROUPS
                or identifier in BODY_NAMES or identifier in SMOOTH_FUNCTIONS or identifier in PARAMETERS
                or identifier in reserved_words())


def identifiers(names: Sequence[str]) -> list[str]:
    """Valid, distinct program identifiers for ``names`` (Blender names such as "Cube.001"):
    other characters become ``_``, a leading digit gets ``obj_``, built-ins and keywords get
    ``_obj``, and repeats get ``_2``, ``_3``..."""
    taken: set[str] = set()
    result = []
    for original in names:
        base = re.sub(r"\W", "_", original.strip().lower(), flags=re.ASCII).strip("_") or "obj"
        base = f"obj_{base}" if base[0].isdigit() else base
        base = base if _free(base) else f"{base}_obj"
        candidate, count = base, 1
        while candidate in taken:
            count += 1
            candidate = f"{base}_{count}"
        taken.add(candidate)
        result.append(candidate)
    return result


def _metres(vector: Vector) -> tuple[float, ...]:
    """Micrometre precision: Blender stores single floats, so later digits are noise."""
    return tuple(round(v, 6) + 0.0 for v in vector)


def _quantity(value: float, unit: str) -> mb.Expr:
    """``value unit`` written with all its digits (the builder's ``q`` keeps six)."""
    value = round(float(value), 6) + 0.0
    return mb.Expr(ast.Quantity(value, unit, mb.SPAN, f"{value!r} {unit}"))


def scene_call(entry: dict):
    """The ``kind(args)`` call of one described object, in the engine's axes."""
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InputError(f"scene object {entry.get('name')!r}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if kind == "mesh":
        return mb.mesh(str(entry["file"]))
    center = _metres(y_up(entry["center"]))
    if kind == "point":
        return mb.point(*center)
    if kind == "plane":
        return mb.plane(point=center, normal=_metres(y_up(entry["normal"])))
    if kind == "sphere":
        return mb.sphere(center=center, radius=_quantity(entry["radius"], "m"))
    rotation = tuple(_quantity(angle, "deg") for angle in euler_xyz_degrees(y_up_rotation(entry["rotation"])))
    if kind == "box":
        sx, sy, sz = entry["size"]  # along the object's own X, Y, Z; its Z is our local Y
        return mb.box(center=center, size=_metres((sx, sz, sy)), rotation=rotation)
    return mb.cylinder(center=center, radius=_quantity(entry["radius"], "m"),
                       height=_quantity(entry["height"], "m"), rotation=rotation)


@dataclass(frozen=True)
class SceneProgram:
    """Program text: the generated header and scene, then the user's text from ``user_line`` on;
    ``names`` maps each described object's name to its identifier."""

    source: str
    user_line: int
    names: dict[str, str]


def scene_program(description: dict) -> SceneProgram:
    """The header (prompt, length in seconds, seeds) and scene of ``description``, followed by
    its ``constraints`` text, as one program; line breaks in the prompt become spaces."""
    objects = description.get("objects", [])
    names = identifiers([str(o.get("name", "")) for o in objects])
    prompt = " ".join(str(description["prompt"]).split())  # a prompt is one line
    program = mb.ProgramBuilder(prompt, mb.q(float(description["length_s"]), "s"), int(description["seeds"]))
    if objects:
        program.scene(**{n: scene_call(o) for n, o in zip(names, objects)})
    generated = program.source().rstrip("\n") + "\n\n"
    return SceneProgram(generated + str(description.get("constraints", "")), generated.count("\n") + 1,
                        {str(o.get("name", "")): n for o, n in zip(objects, names)})


def starter_constraints(description: dict) -> str:
    """A first constraint text for the described scene: reach each point at the end, keep the
    body out of every solid, and a comment for each plane."""
    names = identifiers([str(o.get("name", "")) for o in description.get("objects", [])])
    lines = ['import "interaction"', ""]
    for name, entry in zip(names, description.get("objects", [])):
        if entry.get("kind") == "point":
            lines.append(f"reach_{name}: at end: distance(pelvis.xz, {name}.xz) < 30 cm")
        elif entry.get("kind") == "plane":
            lines.append(f"# {name} is a plane, e.g.: at end: left_wrist.y > {name}.center.y")
        else:
            lines.append(f"avoid_{name}: always: avoids(body, {name})")
    return "\n".join(lines) + "\n"
