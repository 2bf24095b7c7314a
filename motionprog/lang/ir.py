"""The typed intermediate representation: what the checker produces and the compiler consumes.

Names, units, lets and user functions are resolved: a value node evaluates to a tensor
``[B|1, T|1, J|1, C]`` (C components in SI units; J joints of a group), a predicate node to a
per-frame margin. Nodes are frozen and compare by value, so a program written as text and the
same program built with ``builder`` give equal IR (``source``/``description`` do not compare).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch and trimesh load only when a scene object is built
    from motionprog.geometry import Primitive

# ---- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A constant scalar or vector in SI units."""

    values: tuple[float, ...]


@dataclass(frozen=True)
class Joints:
    """Positions of joints (several for a group): [B, T, J, 3], metres."""

    indices: tuple[int, ...]


@dataclass(frozen=True)
class Com:
    """Centre of mass [B, T, 1, 3], metres."""


@dataclass(frozen=True)
class Facing:
    """Horizontal unit facing direction [B, T, 1, 3]."""


@dataclass(frozen=True)
class Component:
    """Selected axes of a vector (``.y`` is (1,), ``.xz`` is (0, 2))."""

    value: Value
    axes: tuple[int, ...]


@dataclass(frozen=True)
class Arith:
    """``left op right`` for op in ``+ - * /`` (broadcast)."""

    op: str
    left: Value
    right: Value


@dataclass(frozen=True)
class Fn:
    """A pointwise built-in: distance, midpoint, direction, velocity, acceleration, speed,
    angle, norm, abs, neg, min, max, min_components."""

    name: str
    args: tuple[Value, ...]


@dataclass(frozen=True)
class Aggregate:
    """``min``/``max``/``mean`` of a value over the frames of the statement's window."""

    op: str
    value: Value


@dataclass(frozen=True)
class Across:
    """``max``/``min``/``mean`` of a value over the joints of its group, at each frame -> [B, T, 1, C]."""

    op: str
    value: Value


@dataclass(frozen=True)
class At:
    """``value @ instant``: the value at one frame, broadcast over the frames -> [B, 1, J, C]."""

    value: Value
    frame: int


@dataclass(frozen=True)
class SignedDistance:
    """Signed distance from positions to a scene object's surface, metres (negative inside)."""

    object: str
    value: Value


@dataclass(frozen=True)
class Input:
    """``input.x`` (editing): ``value`` measured on the input motion instead of the result ->
    [1, T, J, C]; a constant of the search."""

    value: Value


Value = Const | Joints | Com | Facing | Component | Arith | Fn | Aggregate | Across | At | SignedDistance | Input

# ---- predicates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """A relation: its margin is the scalar ``margin`` (minimum over a group's joints)."""

    margin: Value


@dataclass(frozen=True)
class Collide:
    """Body capsules of the joints' bones intersect the object: margin = penetration depth."""

    indices: tuple[int, ...]
    object: str


@dataclass(frozen=True)
class Logic:
    """``and`` (minimum) / ``or`` (maximum) of the operands' margins."""

    op: str
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    """Negated margin."""

    operand: Predicate


Predicate = Atom | Collide | Logic | Not

# ---- program ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """One constraint or objective over a window of frames.

    quantifier: ``always`` (minimum over frames), ``eventually`` (maximum), or for objectives
    ``mean``. body: a Predicate (constraints) or a scalar Value (objectives, sign applied so
    larger is better). when: per-frame condition, ``when C`` = ``C implies body``. stop: for an
    objective with ``until T``, the margin at which it is met (``T`` to maximize, ``-T`` to minimize).
    """

    name: str
    kind: str
    hard: bool
    weight: float
    unit: str
    quantifier: str
    frames: tuple[int, ...]
    body: Predicate | Value
    when: Predicate | None = None
    stop: float | None = None
    source: str = field(default="", compare=False)
    description: str = field(default="", compare=False)


@dataclass(frozen=True)
class Relax:
    """The rigid placement a relaxed program frees: a turn about the vertical line through
    ``pivot`` (x, z metres) when ``yaw``, a shift along the ground when ``xz``."""

    yaw: bool = False
    xz: bool = False
    pivot: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Part:
    """A stretch of the motion with one prompt: frames ``start .. start + frames - 1``."""

    prompt: str
    start: int
    frames: int


@dataclass(frozen=True)
class Program:
    """A checked program: header, scene objects (name, geometry) and constraints. ``parts``:
    the prompt of each stretch of the timeline, in order, when the header changes it with
    ``then`` (empty: ``prompt`` throughout)."""

    prompt: str
    frames: int
    fps: int
    seeds: int
    model: str | None
    relax: Relax
    scene: tuple[tuple[str, Primitive], ...]
    constraints: tuple[Constraint, ...]
    parts: tuple[Part, ...] = ()
    changes: tuple[int, ...] | None = None
    """Editing: the frames ``keep outside a .. b`` lets change (None: no ``keep``, every frame may)."""


def children(node: object) -> list[object]:
    """The IR nodes directly below ``node``."""
    values = [getattr(node, f.name) for f in fields(node)] if is_dataclass(node) else []
    return [c for value in values for c in (value if isinstance(value, tuple) else (value,)) if is_dataclass(c)]


def uses_body(node: object) -> bool:
    """Whether an IR node reads the joints (directly or through com, facing, collide; the input
    motion's joints, ``input.x``, are not the motion's)."""
    if isinstance(node, Input):
        return False
    if isinstance(node, (Joints, Com, Facing, Collide)):
        return True
    return any(uses_body(child) for child in children(node))


def uses_input(node: object) -> bool:
    """Whether an IR node reads the input motion (``input.x``: editing only)."""
    return isinstance(node, Input) or any(uses_input(child) for child in children(node))


def named_joints(node: object) -> set[int]:
    """Indices of the joints an IR node names (``Joints`` and ``Collide``; not ``com``/``facing``)."""
    own = set(node.indices) if isinstance(node, (Joints, Collide)) else set()
    return own.union(*(named_joints(child) for child in children(node)))
