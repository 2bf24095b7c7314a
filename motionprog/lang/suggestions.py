"""Did-you-mean for unknown functions, names and components: by meaning where the unknown name
is a known synonym (``touching`` -> the standard library's ``touches``), by spelling otherwise.

Each answer is the ``help`` text and the edits (``Diagnostic.hint``) that apply it, so a person,
an editor or the LLM repair loop gets the same concrete fix. Names come from the mistakes small
language models make (``touching``, ``within``, ``position``, ``height``) and people too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from motionprog.body.skeleton import suggest
from motionprog.lang import ast
from motionprog.lang.builtins import FUNCTIONS, library
from motionprog.lang.diagnostics import Edit, Span
from motionprog.lang.imports import STDLIB_PREFIX
from motionprog.lang.syntax_fixes import import_edit

Fix = tuple[str | None, tuple[Edit, ...]]
"""(help, edits): no help and no edits when nothing fits."""

FUNCTION_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("touching", "touch", "contact", "in_contact", "is_touching", "contacts"), "touches"),
    **dict.fromkeys(("dist", "distance_to", "distance_between", "get_distance", "euclidean_distance"), "distance"),
    **dict.fromkeys(("vel", "get_velocity"), "velocity"),
    **dict.fromkeys(("accel", "get_acceleration"), "acceleration"),
    **dict.fromkeys(("magnitude", "length"), "norm"),
    **dict.fromkeys(("average", "avg"), "mean"),
    "maximum": "max", "minimum": "min", "absolute": "abs",
    **dict.fromkeys(("center", "centre", "middle", "mid"), "midpoint"),
    **dict.fromkeys(("collision", "collides", "colliding", "intersects", "overlaps"), "collide"),
    **dict.fromkeys(("avoid", "avoiding", "no_collision"), "avoids"),
    **dict.fromkeys(("on_ground", "on_the_floor", "is_grounded", "feet_on_ground"), "grounded"),
    **dict.fromkeys(("stand_on", "standing_on"), "stands_on"),
    **dict.fromkeys(("reach", "reach_to", "reaching"), "reaches"),
    **dict.fromkeys(("sit", "sitting", "sit_on", "sitting_on"), "sits_on"),
    **dict.fromkeys(("face", "facing_towards", "look_at", "looks_at", "face_towards"), "faces"),
    **dict.fromkeys(("balance", "balanced", "is_balanced", "stay_balanced"), "com_between_feet"),
    **dict.fromkeys(("hold", "holding", "grab", "grasp", "grasps"), "grips"),
    **dict.fromkeys(("in_area", "inside_region", "in_region", "stay_inside"), "inside_area"),
}
"""Invented function names and the function that means the same."""

FUNCTION_ADVICE: dict[str, str] = {
    **dict.fromkeys(("jump", "jumping", "jumps"), "a jump is a height: 'eventually: pelvis.y > 1.3 m' or 'maximize max(pelvis.y)'"),
    **dict.fromkeys(("duck", "ducking", "crouch", "crouching", "squat", "squatting"),
                    "a duck is a low head: 'eventually: head.y < 1.2 m'"),
    **dict.fromkeys(("kick", "kicking"), "a kick lifts a foot: 'eventually: right_foot.y > 50 cm'"),
    **dict.fromkeys(("wave", "waving", "raise_hand", "hand_up"), "a raised hand: 'eventually: right_hand.y > head.y'"),
    **dict.fromkeys(("walk_to", "go_to", "move_to", "arrive", "arrive_at"), "at the end, near a point: 'at end: distance(pelvis.xz, goal.xz) < 20 cm'"),
}
"""Invented functions that name a movement, and the constraint that says it."""

RELATIONS = ("inside", "outside", "above", "below", "near")
"""Relations a model writes as functions: ``inside(a, obj)`` is ``a inside obj``."""

POSITION_FUNCTIONS = ("position", "pos", "location", "get_position", "joint_position", "coords", "coordinates")
"""Functions a model wraps around a joint that is already a position."""

COMPONENT_FUNCTIONS: dict[str, str] = {
    **dict.fromkeys(("height", "get_height", "elevation", "altitude"), "y"),
    **dict.fromkeys(("ground_position", "horizontal", "ground_xz", "planar_position"), "xz"),
}
"""Functions a model writes for a component: ``height(head)`` is ``head.y``."""

NAME_SYNONYMS: dict[str, str] = {
    "foot": "feet", "hand": "hands", "knee": "knees", "toe": "toes", "heel": "heels", "elbow": "elbows",
    "shoulder": "shoulders", "ankle": "ankles", "wrist": "wrists", "leg": "legs", "arm": "arms",
    **dict.fromkeys(("torso", "trunk", "upper_body"), "chest"),
    **dict.fromkeys(("waist", "hips_center", "root_joint"), "pelvis"),
    **dict.fromkeys(("nose", "face", "eyes"), "head"),
    **dict.fromkeys(("center_of_mass", "centre_of_mass", "cog", "center_of_gravity", "mass_center"), "com"),
    **dict.fromkeys(("heading", "orientation", "forward"), "facing"),
    **dict.fromkeys(("ground", "floor", "ground_level", "floor_level", "floor_height"), "0 m"),
}
"""Unknown names and what to write instead (the floor is the plane y = 0)."""

COMPONENT_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(("height", "vertical", "up", "altitude", "elevation"), "y"),
    **dict.fromkeys(("horizontal", "ground", "planar", "floor"), "xz"),
    **dict.fromkeys(("position", "pos", "location", "coords", "coordinates", "xyz"), ""),
}
"""Unknown components and the component meant; ``head.position`` is ``head``."""


@functools.cache
def _library() -> dict[str, tuple[str, str, int, str]]:
    """(module, signature, number of parameters, doc) of each standard library function."""
    found = {}
    for module, entries in library().items():
        for entry in entries:
            name, params = entry["signature"].rstrip(")").split("(")
            found[name] = (module, entry["signature"], len([p for p in params.split(",") if p.strip()]), entry["doc"])
    return found


def described(definition: ast.Def) -> str:
    """``name(params)``, with the doc comment of a standard library function."""
    signature = f"{definition.name}({', '.join(definition.params)})"
    entry = _library().get(definition.name) if definition.span.file.startswith(STDLIB_PREFIX) else None
    return f"{signature}: {entry[3]}" if entry and entry[3] else signature


def library_modules() -> dict[str, str]:
    """The standard library module of each of its functions: ``{"touches": "contact", ...}``."""
    return {name: entry[0] for name, entry in _library().items()}


def source_of(span: Span) -> str | None:
    """The text a one-line span covers (None across lines)."""
    return span.text[span.column - 1:span.end_column - 1] if span.line == span.end_line and span.text else None


def function_fix(node: ast.Call, defined: Mapping[str, ast.Def], builtins: Iterable[str]) -> Fix:
    """What to write instead of a call to the unknown function ``node.function``."""
    name, args = node.function, [source_of(arg.span) for arg in node.args]
    whole = None not in args and source_of(node.span) is not None
    if name in RELATIONS and len(args) == 2 and whole:
        written = f"{args[0]} {name} {args[1]}"
        return f"'{name}' is a relation, not a function: write '{written}'", (Edit(node.span, written),)
    if name == "within" and len(args) in (2, 3) and whole:
        written = f"{args[0]} inside {args[1]}" if len(args) == 2 else f"{args[0]} near {args[1]} within {args[2]}"
        return (f"'within' is not a function: write '{written}' (or 'a near b within d', 'x in [lo, hi]')",
                (Edit(node.span, written),))
    if name in POSITION_FUNCTIONS and len(args) == 1 and whole:
        return (f"a joint or point is already a position: write '{args[0]}'", (Edit(node.span, args[0]),))
    if name in COMPONENT_FUNCTIONS and len(args) == 1 and whole:
        written = f"{args[0]}.{COMPONENT_FUNCTIONS[name]}"
        return f"write '{written}'", (Edit(node.span, written),)
    if name in FUNCTION_ADVICE:
        return FUNCTION_ADVICE[name], ()
    target = FUNCTION_SYNONYMS.get(name) or suggest(name, sorted({*builtins, *defined, *library_modules()}))
    if target is None:
        return None, ()
    module = library_modules().get(target) if target not in defined else None
    signature, fewest, most = signatures(defined).get(target, (target, 0, -1))
    facts = [f"it is in the standard library: add 'import \"{module}\"' at the top"] if module else []
    if not fewest <= len(node.args) <= (most if most >= 0 else len(node.args)):
        facts.append(f"it takes {signature}")
    edits = (import_edit(node.span.file, module),) if module else ()
    if target == name:
        return f"'{name}' " + "; ".join(facts).removeprefix("it "), edits
    return " ".join([f"did you mean '{target}'?", "; ".join(facts)]).strip(), (*edits, Edit(node.name_span, target))


def joint_angle_fix(node: ast.Call) -> Fix:
    """``angle(a, b, c)``, the angle at joint ``b``, is ``angle(direction(b, a), direction(b, c))``."""
    args = [source_of(arg.span) for arg in node.args]
    if node.function != "angle" or len(args) != 3 or None in args:
        return None, ()
    a, b, c = args
    written = f"angle(direction({b}, {a}), direction({b}, {c}))"
    return f"angle(u, v) takes two directions; the angle at {b} is {written}", (Edit(node.span, written),)


def signatures(defined: Mapping[str, ast.Def]) -> dict[str, tuple[str, int, int]]:
    """(signature, fewest, most arguments) of each function a program may call (most -1: any)."""
    found = {name: (signature, count, count) for name, (_, signature, count, _) in _library().items()}
    found |= {b.name: (b.signature, *b.arity) for b in FUNCTIONS}
    return found | {name: (f"{name}({', '.join(d.params)})", len(d.params), len(d.params))
                    for name, d in defined.items()}


def name_fix(node: ast.Name, known: Iterable[str], declarable: bool) -> Fix:
    """What to write instead of the unknown name ``node.name`` (a scene object to declare when it
    is ``declarable``: it looks like neither a joint nor anything defined, nor is it a reserved word)."""
    if node.name.lower() in ("true", "false"):
        return "there is no true or false: a condition is a comparison such as head.y > 1 m", ()
    target = NAME_SYNONYMS.get(node.name) or suggest(node.name, sorted(set(known)))
    if target == "0 m":
        return "the floor is the plane y = 0: compare heights with 0 m (feet.y < 5 cm)", (Edit(node.span, target),)
    if target is not None:
        return f"did you mean '{target}'?", (Edit(node.span, target),)
    if not declarable:
        return None, ()
    return (f"declare objects in the scene: scene {{ {node.name} = sphere(center = (0, 1, 1), radius = 15 cm) }} "
            "(or box, cylinder, point, line, plane)"), ()


def component_fix(node: ast.Attr, candidates: Iterable[str], synonyms: bool) -> Fix:
    """What to write instead of the unknown component or property ``.name`` of ``node``; by
    meaning (``.height`` is ``.y``) only on body values, whose components are x, y, z."""
    target = COMPONENT_SYNONYMS.get(node.name) if synonyms else None
    target = suggest(node.name, sorted(set(candidates))) if target is None else target
    if target is None:
        return None, ()
    dot = Span(node.span.file, node.span.end_line, node.span.end_column - len(node.name) - 1,
               node.span.end_line, node.span.end_column, node.span.text)
    if target == "":
        return f"a joint is already a position: drop '.{node.name}'", (Edit(dot, ""),)
    return f"did you mean '{target}'?", (Edit(dot, f".{target}"),)
