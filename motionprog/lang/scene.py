"""``scene { name = kind(args) }`` -> geometry objects (the checker's scene room).

Arguments are checked expressions that must be constants of the right size and unit; meshes
are read under the program's file boundary (:mod:`motionprog.lang.imports`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from motionprog import geometry
from motionprog.errors import InputError
from motionprog.lang import ast, ir
from motionprog.lang.builtins import OBJECTS, PARAMETERS
from motionprog.lang.diagnostics import Span
from motionprog.lang.imports import program_directory, refusal
from motionprog.lang.typed import Abandon, Typed
from motionprog.lang.units import ANGLE, LENGTH, NONE, Dim

if TYPE_CHECKING:
    from motionprog.lang.checker import Checker

OBJECT_KINDS = {o.name: o for o in OBJECTS}
ZEROS = (0.0, 0.0, 0.0)


def scene(c: Checker, statement: ast.Scene, file: str) -> None:
    """Build every object of a scene block into ``c.objects`` (a broken one is skipped)."""
    for item in statement.objects:
        try:
            c.start(item.span)
            c.unreserved(item.name, item.span.first(len(item.name)))
            c.claim(item.name, item.span)
            c.objects[item.name] = construct(c, item.call, file)
            c.kinds[item.name] = item.call.function
        except Abandon:
            continue


def arguments(c: Checker, call: ast.Call) -> dict[str, tuple[Typed, Span]]:
    """The checked arguments of a scene constructor by parameter name (positional, then keywords)."""
    kind = call.function
    names = PARAMETERS[kind]
    positional = [a for a in call.args if not isinstance(a, ast.KeywordArg)]
    if len(positional) > len(names):
        raise c.fail("E204", f"{kind}() takes at most {len(names)} arguments, got {len(positional)}", call.span)
    values = {name: (c.expr(arg, {}), arg.span) for name, arg in zip(names, positional)}
    for arg in call.args:
        if isinstance(arg, ast.KeywordArg):
            if arg.name not in names:
                raise c.fail("E210", f"{kind}() has no parameter '{arg.name}'", arg.span,
                             c.did_you_mean(arg.name, names))
            if arg.name in values:
                raise c.fail("E210", f"{kind}() got '{arg.name}' twice", arg.span)
            values[arg.name] = (c.expr(arg.value, {}), arg.span)
    missing = [n for n in names[:OBJECT_KINDS[kind].arity[0]] if n not in values]
    if missing:
        raise c.fail("E210", f"{kind}() needs '{missing[0]}'", call.span)
    return values


class Arguments:
    """Typed access to a constructor's checked arguments: constants of one size and unit."""

    def __init__(self, c: Checker, kind: str, values: dict[str, tuple[Typed, Span]]):
        self.c, self.kind, self.values = c, kind, values

    def get(self, name: str, size: int, dim: Dim, default=None):
        """The constant ``name`` (a float for size 1, else a tuple), or ``default`` when absent."""
        if name not in self.values:
            return default
        typed, span = self.values[name]
        if typed.kind == "string" or not isinstance(typed.ir, ir.Const):
            raise self.c.fail("E206", f"'{name}' of {self.kind}() must be a constant", span)
        if typed.size != size:
            shape = "a number" if size == 1 else f"a {size}-vector"
            raise self.c.fail("E206", f"'{name}' of {self.kind}() must be {shape}", span)
        self.c.unify(typed.dim, dim, span, f"'{name}' of {self.kind}()")
        return typed.ir.values[0] if size == 1 else typed.ir.values

    def rotation(self) -> tuple[float, float, float]:
        """The ``rotation`` argument in degrees (Euler XYZ)."""
        return tuple(math.degrees(v) for v in self.get("rotation", 3, ANGLE, ZEROS))


def construct(c: Checker, call: ast.Call, file: str) -> geometry.Primitive:
    """The geometry object of one ``kind(args)`` call (E210 for unknown kinds and bad values):
    plain floats, built and measured without torch (a distance imports it when first asked for)."""
    kind = call.function
    if kind not in OBJECT_KINDS:
        raise c.fail("E210", f"unknown scene object '{kind}'", call.name_span, c.did_you_mean(kind, OBJECT_KINDS))
    values = arguments(c, call)
    args = Arguments(c, kind, values)
    try:
        if kind == "point":
            return geometry.Point((args.get("x", 1, LENGTH), args.get("y", 1, LENGTH), args.get("z", 1, LENGTH)))
        if kind == "line":
            return geometry.Line(args.get("a", 3, LENGTH), args.get("b", 3, LENGTH))
        if kind == "plane":
            return geometry.Plane(args.get("point", 3, LENGTH), args.get("normal", 3, NONE))
        if kind == "box":
            rotation = geometry.rotation_matrix(args.rotation())
            return geometry.Box(args.get("center", 3, LENGTH), args.get("size", 3, LENGTH), rotation)
        if kind == "sphere":
            return geometry.Sphere(args.get("center", 3, LENGTH), args.get("radius", 1, LENGTH))
        if kind == "cylinder":
            return geometry.Cylinder(args.get("center", 3, LENGTH), args.get("radius", 1, LENGTH),
                                     args.get("height", 1, LENGTH), geometry.rotation_matrix(args.rotation()))
        return mesh(c, args, file)
    except InputError as exc:
        raise c.fail("E210", str(exc), call.span) from None


def mesh(c: Checker, args: Arguments, file: str) -> geometry.Mesh:
    """A mesh file relative to the program, read only inside the program's boundary (OBJ and
    STL without trimesh, :mod:`motionprog.geometry.mesh_file`)."""
    typed, span = args.values["file"]
    if typed.kind != "string":
        raise c.fail("E206", "the first argument of mesh() is a file name in quotes", span)
    path = program_directory(file) / typed.text
    problem = refusal(path, c.roots)
    if problem:
        raise c.fail("E210", problem.replace("cannot find", "mesh file not found:"), span)
    return geometry.Mesh.load(path, position=args.get("position", 3, LENGTH, ZEROS),
                              rotation=args.rotation(), scale=args.get("scale", 1, NONE, 1.0))
