"""The catalogue of built-in names and functions: signature, unit and one-line doc.

The checker resolves names against it, ``motionprog explain`` and the LLM prompt list it, and
docs/language.md documents the same table.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import asdict, dataclass
from functools import cache

from motionprog.body.skeleton import ALIASES, GROUPS, JOINT_NAMES
from motionprog.lang import ast
from motionprog.lang.parser import parse


RETURNS = ("condition", "number", "vector", "argument", "value")
"""What a function call gives: a condition (true or false at each frame, like ``a < b``), a
number (per joint of a group), a vector, a value shaped like its argument (``abs``,
``mean``...), or a value of a shape its form does not tell."""


@dataclass(frozen=True)
class Builtin:
    """One built-in: ``kind`` is ``function``, ``atom``, ``object`` or ``property``.

    ``arity`` is (fewest, most) arguments; most = -1 for any number. ``returns`` (functions):
    what a call gives, one of :data:`RETURNS`.
    """

    name: str
    kind: str
    signature: str
    unit: str
    doc: str
    arity: tuple[int, int] = (0, 0)
    returns: str = ""


FUNCTIONS: tuple[Builtin, ...] = (
    Builtin("distance", "function", "distance(a, b)", "m",
            "distance between two positions; with a scene object, the signed distance to its surface (negative inside)", (2, 2),
            returns="number"),
    Builtin("midpoint", "function", "midpoint(a, b)", "m", "the point halfway between two positions", (2, 2),
            returns="vector"),
    Builtin("direction", "function", "direction(a, b)", "1",
            "unit vector from a towards b; a bone direction is direction(left_shoulder, left_elbow)", (2, 2),
            returns="vector"),
    Builtin("velocity", "function", "velocity(x)", "m/s", "time derivative of a position or length (20 fps, central differences)", (1, 1),
            returns="argument"),
    Builtin("acceleration", "function", "acceleration(x)", "m/s^2", "second time derivative of a position or length", (1, 1),
            returns="argument"),
    Builtin("speed", "function", "speed(x)", "m/s", "length of velocity(x)", (1, 1), returns="number"),
    Builtin("angle", "function", "angle(u, v)", "rad", "angle between two vectors, in [0, pi]", (2, 2),
            returns="number"),
    Builtin("norm", "function", "norm(v)", "unit of v", "length of a vector", (1, 1), returns="number"),
    Builtin("abs", "function", "abs(x)", "unit of x", "absolute value", (1, 1), returns="argument"),
    Builtin("min", "function", "min(x) | min(a, b, ...)", "unit of x",
            "one argument: minimum over the frames of the statement's window (per component of a vector); "
            "several numbers: pointwise minimum", (1, -1), returns="argument"),
    Builtin("max", "function", "max(x) | max(a, b, ...)", "unit of x",
            "one argument: maximum over the frames of the statement's window (per component of a vector); "
            "several numbers: pointwise maximum", (1, -1), returns="argument"),
    Builtin("mean", "function", "mean(x)", "unit of x",
            "mean over the frames of the statement's window (a vector: per component, mean(left_wrist.xz))", (1, 1),
            returns="argument"),
    Builtin("highest", "function", "highest(x)", "unit of x",
            "at each frame, the largest value over the joints of a group: highest(hands.y) is the higher hand", (1, 1),
            returns="argument"),
    Builtin("lowest", "function", "lowest(x)", "unit of x",
            "at each frame, the smallest value over the joints of a group: lowest(distance(hands, cup)) is the "
            "nearer hand's distance", (1, 1), returns="argument"),
    Builtin("centroid", "function", "centroid(x)", "unit of x",
            "at each frame, the mean over the joints of a group: centroid(body.xz) is the body's centre on the "
            "ground", (1, 1), returns="argument"),
    Builtin("collide", "function", "collide(part, obj)", "m",
            "predicate: body capsules of part (body, a group or a joint) intersect obj; margin = penetration depth", (2, 2),
            returns="condition"),
)

OBJECTS: tuple[Builtin, ...] = (
    Builtin("point", "object", "point(x, y, z)", "m", "a point; usable as a position (goal, goal.xz)", (3, 3)),
    Builtin("line", "object", "line(a, b)", "m", "the segment from a to b", (2, 2)),
    Builtin("plane", "object", "plane(point, normal)", "m", "a plane; signed distance positive on the normal side", (2, 2)),
    Builtin("box", "object", "box(center, size, rotation = (0, 0, 0))", "m", "a box with full extents size, Euler XYZ rotation", (2, 3)),
    Builtin("sphere", "object", "sphere(center, radius)", "m", "a solid sphere", (2, 2)),
    Builtin("cylinder", "object", "cylinder(center, radius, height, rotation = (0, 0, 0))", "m",
            "a solid cylinder, axis along Y (rotated by rotation), center in the middle of the axis", (3, 4)),
    Builtin("mesh", "object", 'mesh("file", position = (0, 0, 0), rotation = (0, 0, 0), scale = 1)', "m",
            "a triangle mesh file (OBJ/PLY/STL/GLB) relative to the program file", (1, 4)),
)

PARAMETERS: dict[str, tuple[str, ...]] = {
    "point": ("x", "y", "z"), "line": ("a", "b"), "plane": ("point", "normal"),
    "box": ("center", "size", "rotation"), "sphere": ("center", "radius"),
    "cylinder": ("center", "radius", "height", "rotation"),
    "mesh": ("file", "position", "rotation", "scale"),
}
"""Parameter names of each scene constructor, in positional order."""

PROPERTIES: dict[str, tuple[str, ...]] = {
    "point": ("center",), "line": ("center",), "plane": ("center", "normal"),
    "box": ("center", "top", "bottom", "size"), "sphere": ("center", "top", "bottom", "radius"),
    "cylinder": ("center", "top", "bottom", "radius", "height"), "mesh": ("center", "top", "bottom"),
}
"""Properties of each object kind (constants): centre, heights (m) and parameters."""
NUMBER_PROPERTIES = frozenset({"top", "bottom", "radius", "height"})
"""The properties that are one number (the others are vectors: ``center``, ``size``, ``normal``)."""

ATOMS: tuple[Builtin, ...] = (
    Builtin("com", "atom", "com", "m", "centre of mass (de Leva 1996 segment fractions)"),
    Builtin("facing", "atom", "facing", "1", "horizontal unit vector the body faces, (x, 0, z)"),
)

CONSTRUCTS: tuple[Builtin, ...] = (
    Builtin("@", "construct", "value @ instant", "unit of value",
            "the value at one instant, e.g. pelvis.xz @ start, head.y @ 2 s, hand.y @ (end - 1 s)"),
    Builtin("shift", "construct", "instant + time | instant - time", "s",
            "an instant shifted by a time: end - 1 s, start + 10 %, during 2 s .. end - 0.5 s"),
    Builtin("until", "construct", "minimize EXPR until T | maximize EXPR until T", "unit of EXPR",
            "a goal that is met (and stops pulling) once its value reaches T: minimize distance(a, b) until 1 cm"),
    Builtin("relax", "construct", "relax yaw | relax xz | relax yaw, xz | relax yaw about (x, z)", "m",
            "the constraints hold up to a turn about Y (through the origin or the ground point (x, z)) and/or a "
            "shift along the ground, chosen by the optimizer"),
)
"""Forms beyond function calls that the prompt lists with the built-ins."""

COMPONENTS: dict[str, tuple[int, ...]] = {
    "x": (0,), "y": (1,), "z": (2,), "xz": (0, 2), "xy": (0, 1), "yz": (1, 2),
}
"""Component suffixes of 3-vectors and the axes they select."""
AXES = tuple(name for name, axes in COMPONENTS.items() if len(axes) == 1)
"""The components that are one number: ``x``, ``y``, ``z``."""


@cache
def library() -> dict[str, list[dict[str, object]]]:
    """The standard library (``import "name"``): per module, each ``def``'s signature, the
    comment written above it and what a call gives (:data:`RETURNS`). Read once (the files ship
    with the package); callers only read it."""
    modules = {}
    for resource in sorted(importlib.resources.files("motionprog.constraints").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".mprog"):
            module, _ = parse(resource.read_text(encoding="utf-8"), resource.name)
            modules[resource.name.removesuffix(".mprog")] = module
    returns = _library_returns([s for m in modules.values() if m for s in m.statements if isinstance(s, ast.Def)])
    return {name: _documented_defs(module, returns) if module else [] for name, module in modules.items()}


def returns_of(node: ast.Expr, known: dict[str, str]) -> str:
    """What an expression gives (one of :data:`RETURNS`), read from its form; ``known``: what
    each function's call gives."""
    if isinstance(node, (ast.Relation, ast.InRange)):
        return "condition"
    if isinstance(node, (ast.Binary, ast.Unary)) and node.op in ast.LOGIC:
        return "condition"
    if isinstance(node, ast.At):
        return returns_of(node.value, known)
    if isinstance(node, ast.Attr):
        return "number" if node.name in (*AXES, *NUMBER_PROPERTIES) else "value"
    if isinstance(node, ast.Call):
        given = known.get(node.function, "value")
        return returns_of(node.args[0], known) if given == "argument" and node.args else given
    return "number" if isinstance(node, ast.Quantity) else "value"


def _library_returns(defs: list[ast.Def]) -> dict[str, str]:
    """What each built-in and library function's call gives (library functions call each other,
    in any order, so their bodies are read until nothing changes)."""
    known = {b.name: b.returns for b in FUNCTIONS}
    while True:
        more = known | {d.name: returns_of(d.body, known) for d in defs}
        if more == known:
            return known
        known = more


def _documented_defs(module: ast.Module, returns: dict[str, str]) -> list[dict[str, object]]:
    """``{"signature", "doc", "returns"}`` of each ``def``: the doc is the comment lines
    directly above it, joined."""
    lines = {comment.line: comment.text.lstrip("#").strip() for comment in module.comments}
    entries = []
    for statement in module.statements:
        if isinstance(statement, ast.Def):
            above, line = [], statement.span.line - 1
            while line in lines:
                above.insert(0, lines[line])
                line -= 1
            entries.append({"signature": f"{statement.name}({', '.join(statement.params)})", "doc": " ".join(above),
                            "returns": returns[statement.name]})
    return entries


def catalogue() -> dict[str, object]:
    """Every built-in, for documentation and the LLM prompt: functions, constructs, scene objects
    with parameters and properties, body atoms, joints, aliases, groups, components and the
    standard library."""
    return {
        "functions": [asdict(b) for b in FUNCTIONS],
        "constructs": [asdict(b) for b in CONSTRUCTS],
        "library": library(),
        "objects": [asdict(b) | {"parameters": PARAMETERS[b.name], "properties": PROPERTIES[b.name]}
                    for b in OBJECTS],
        "atoms": [asdict(b) for b in ATOMS],
        "joints": list(JOINT_NAMES),
        "aliases": dict(ALIASES),
        "groups": {name: [JOINT_NAMES[i] for i in indices] for name, indices in GROUPS.items()},
        "components": list(COMPONENTS),
    }
