"""The grammar one task's answer is held to: a part of the language, generated for that task
from the project grammar, the catalogue and the task's scene.

The whole language lets a model write anything that parses: unknown names (``bar`` with no
bar in the scene, ``touching``), a label on a line of its own, a constraint split over
lines, comments until the token limit. Measured with Qwen2.5-Coder-1.5B, every one of those
happened. The answer grammar keeps what a program for one task needs and nothing else:

- one statement per line: the imports (library modules only), the ``motion`` header, then
  1 to :data:`MOST_LINES` constraints or objectives, at least one of them a constraint;
  spaces between tokens, no comments; an instant always has its unit (``at 2 s``,
  ``at frame 40``, never ``at 40``);
- a name in an expression is a joint, alias, group, ``com``, ``facing`` or an object of the
  scene; a call is to a built-in or a standard-library function; ``.x``, ``.center``... are
  the components and object properties, and a number property (``bed.top``) takes no
  component after it;
- conditions and values keep their places: a constraint or ``when`` holds a condition (a
  comparison, ``and``/``or``/``not`` of conditions, a call of a predicate such as
  ``touches``), an objective, a function argument or a vector component a value; an order
  comparison (``<``, ``>=``...) compares numbers (:data:`NUMBERS`), never vectors;
- numbers, labels, the motion text and chains of operators have bounded lengths, so that no
  line runs on;
- the scene is not written by the model when the task gives one (it is put into the program
  as given, :func:`with_scene`); without one, the model may declare objects named after
  words of the task, with the kinds and parameter names of the catalogue.

Every sentence of the answer grammar is a program of the language (tested by generating
sentences from it); the checker still judges every candidate.
"""

from __future__ import annotations

import re
from functools import cache

from lark import Lark
from lark.exceptions import LarkError

from motionprog.lang import catalogue
from motionprog.lang.builtins import AXES, NUMBER_PROPERTIES, RETURNS
from motionprog.lang.checker import reserved_words
from motionprog.lang.units import TIME, UNITS
from motionprog.llm.reference import answer_grammar
from motionprog.llm.task_words import words

MOST_DIGITS, LONGEST_LABEL, LONGEST_TEXT, MOST_OPERATORS = 6, 40, 200, 4
"""Bounds on a number's digits (before and after its point), a label's and the motion text's
characters, and the operators in one chain (``a + b - c``, ``p and q``) in an answer: a small
model at temperature 0, barred from the token it wanted (``>=`` after a vector), wrote one
line of products until the token limit."""
MOST_LINES = 12
"""Most constraint and objective lines in one answer: more than any example needs, few enough
that a model repeating itself stops early."""
DEFINITION = re.compile(r"^(?=[?!]?[A-Za-z_%])", re.MULTILINE)
SCENE_BLOCK = re.compile(r"\bscene\s*\{[^{}]*\}")
HEADER = re.compile(r'^\s*motion\s+"([^"]*)"', re.MULTILINE)
"""A program's ``motion "text"`` header; group 1 is the text."""
TAKEN_FROM_PROJECT = ("motion_stmt", "motion_option", "import_stmt", "constraint_stmt", "objective_stmt",
                      "label", "strength", "goal", "when", "until", "weight", "time", "window", "instant",
                      "instant_atom", "expr", "implies", "or_expr", "and_expr", "not_expr", "relation", "sum",
                      "product", "unary", "postfix", "atom", "cmp", "region", "args", "arg", "quantity",
                      "UNIT", "NAME", "NUMBER")
"""The project's rules and terminals an answer uses, copied from the grammar file as they are
(but for the names :data:`NARROWED`)."""
NARROWED = {"atom": [(r"NAME(\s*->\s*name\b)", r"VALUE\1"), (r'NAME(\s*"\("\s*\[args\]\s*"\)"\s*->\s*call\b)',
                                                             r"FUNCTION\1"),
                     (r"\n\s*\|\s*STRING\s*->\s*string\b", ""), (r"\bexpr\b", "sum")],
            "relation": [(r"(\?relation:\s*)sum(\s*\|)", r'\1PREDICATE "(" [args] ")" -> call | "(" expr ")"\2'),
                         (r"\bsum cmp sum\b", "number cmp number")],
            "objective_stmt": [(r"goal expr", "goal sum")],
            "postfix": [(r'"\."\s*NAME', '"." MEMBER')],
            "label": [(r"NAME", "LABEL")],
            "arg": [(r"\bexpr\b", "sum"), (r'NAME(\s*"=")', r"PARAMETER\1")],
            "import_stmt": [(r"STRING", "MODULE")],
            "motion_stmt": [(r"STRING", "TEXT")], "motion_option": [(r"STRING", "TEXT")],
            "instant_atom": [(r"quantity(\s*->\s*instant_quantity\b)", r"NUMBER INSTANT_UNIT\1")],
            "NUMBER": [(r"\[0-9\]\+", f"[0-9]{{1,{MOST_DIGITS}}}")],
            "sum": [(r'product\s*\|\s*sum "\+" product\s*-> add\s*\|\s*sum "-" product\s*-> sub',
                     f'product (("+" | "-") product)~0..{MOST_OPERATORS}')],
            "product": [(r'unary\s*\|\s*product "\*" unary\s*-> mul\s*\|\s*product "/" unary\s*-> div',
                         f'unary (("*" | "/") unary)~0..{MOST_OPERATORS}')],
            "and_expr": [(r'not_expr\s*\|\s*and_expr "and" not_expr\s*-> and_', f'not_expr ("and" not_expr)~0..{MOST_OPERATORS}')],
            "or_expr": [(r'and_expr\s*\|\s*or_expr "or" and_expr\s*-> or_', f'and_expr ("or" and_expr)~0..{MOST_OPERATORS}')]}
"""Where the answer grammar narrows the project's rules: ``NAME``/``STRING`` to the names that
exist, conditions apart from values, numbers bounded: (rule, [(pattern, replacement)]), each
pattern found at least once."""
WITH_OBJECTS = {"unary": [(r"(\?unary:\s*postfix)", r"\1 | OBJECT_NUMBER")],
                "number_unary": [(r"(\?number_unary:\s*number_postfix)", r"\1 | OBJECT_NUMBER")]}
"""Narrowings for a task with objects: ``bed.top`` is a number that takes no component."""
NUMBERS = {"number": f'number_product (("+" | "-") number_product)~0..{MOST_OPERATORS}',
           "number_product": f'number_unary (("*" | "/") number_unary)~0..{MOST_OPERATORS}',
           "number_unary": 'number_postfix | "-" number_unary -> neg',
           "number_postfix": 'number_atom | postfix "." AXIS -> attr | number_postfix "@" instant_atom -> at_instant',
           "number_atom": 'quantity | NUMBER_FUNCTION "(" [args] ")" -> call '
                          '| SHAPED_FUNCTION "(" number ("," number)* ")" -> call | "(" number ")"'}
"""The values an order comparison (``<``, ``>=``...) takes: numbers, never vectors (the model
wrote ``head.xz >= 2.5``): a quantity, an axis (``head.y``), a function giving a number
(``distance``), or one shaped like its argument given numbers (``abs(head.y)``), and the
arithmetic of those. (The checker refuses a vector there; these rules are the answer
grammar's own, the project grammar has one ladder for every value.)"""
MEASURED = re.compile(r"\d\s*([a-z]+)")
"""A word right after a number is a unit or a measure (``15 degrees``), never an object."""


def definitions(grammar: str) -> dict[str, str]:
    """Each rule and terminal definition of a Lark grammar text by name (``?``/``!`` marks and
    terminal priorities dropped from the key, kept in the text); comments and directives out."""
    found = {}
    for chunk in DEFINITION.split(grammar):
        text = re.sub(r"^\s*//.*\n?", "", chunk, flags=re.MULTILINE).strip()
        head = re.match(r"[?!]?([A-Za-z_][A-Za-z0-9_]*)(?:\.-?\d+)?\s*:", text)
        if head:
            found[head.group(1)] = text
    return found


def _narrowed(name: str, text: str, objects: bool) -> str:
    """A project definition rewritten where :data:`NARROWED` (and, for a task with objects,
    :data:`WITH_OBJECTS`) say."""
    for pattern, replacement in [*NARROWED.get(name, []), *(WITH_OBJECTS.get(name, []) if objects else [])]:
        text, count = re.subn(pattern, replacement, text)
        if count == 0:
            raise ValueError(f"the grammar's rule {name} no longer has the shape the answer grammar narrows "
                             f"({pattern!r} not found)")
    return text


def _alternatives(name: str, values: list[str]) -> str:
    """A terminal matching exactly one of ``values`` as a whole word (``min`` is not the start
    of ``minimize``; GBNF, with no lexer, drops the look-ahead and needs none)."""
    words = "|".join(re.escape(value).replace("/", "\\/") for value in sorted(set(values), key=lambda v: (-len(v), v)))
    return f"{name}: /(?:{words})(?![A-Za-z0-9_])/"


def _not_reserved(name: str) -> str:
    """A terminal matching a name that is not a reserved word (a label: ``above:`` does not
    parse). GBNF drops the look-ahead: there, repair.number_labels renames such a label."""
    words = "|".join(re.escape(w) for w in sorted(reserved_words(), key=lambda w: (-len(w), w)))
    return f"{name}: /(?!(?:{words})(?![A-Za-z0-9_]))[A-Za-z_][A-Za-z0-9_]{{0,{LONGEST_LABEL - 1}}}/"


def body_names() -> list[str]:
    """Every name of the body: joints, aliases, groups and the atoms (``com``, ``facing``)."""
    table = catalogue()
    return [*table["joints"], *table["aliases"], *table["groups"], *(atom["name"] for atom in table["atoms"])]


def function_names(*returns: str) -> list[str]:
    """Built-in and standard-library function names: every one, or those whose call gives one
    of ``returns`` (``builtins.RETURNS``)."""
    table = catalogue()
    functions = [*((f["name"], f["returns"]) for f in table["functions"]),
                 *((d["signature"].split("(")[0], d["returns"]) for defs in table["library"].values() for d in defs)]
    return [name for name, gives in functions if not returns or gives in returns]


def object_words(task: str) -> list[str]:
    """Names a model may give objects of its own when the task has no scene: the task's words
    that are not already a name of the language (``chair``, ``ball``, ``goal``) nor a measure."""
    table = catalogue()
    taken = (reserved_words() | set(body_names()) | set(function_names()) | set(table["components"])
             | {name for o in table["objects"] for name in (o["name"], *o["parameters"], *o.get("properties", ()))})
    taken |= set(MEASURED.findall(task.lower()))
    return sorted(w for w in words(task) if w.isidentifier() and w not in taken)


def _scene_rules(objects: list[str]) -> list[str]:
    """The rules of a one-line scene the model declares itself (no meshes: they need a file)."""
    kinds = [o["name"] for o in catalogue()["objects"] if o["name"] != "mesh"]
    return ['scene_stmt: "scene" "{" scene_item+ "}"', 'scene_item: OBJECT "=" KIND "(" [args] ")"',
            _alternatives("OBJECT", objects), _alternatives("KIND", kinds)]


def task_grammar(task: str, scene_objects: list[str] | None = None, added_lines: int = 0) -> str:
    """The Lark grammar an answer to ``task`` is held to. ``scene_objects``: the names of the
    given scene's objects (the scene is then added to the answer, not written by the model);
    ``None`` when the task has no scene. ``added_lines``: the answer is instead 1 to that many
    constraint lines, to add to a program that misses what the task names."""
    project = definitions(answer_grammar())
    table = catalogue()
    objects = scene_objects if scene_objects is not None else object_words(task)
    declared = scene_objects is None and objects and not added_lines
    properties = {p for o in table["objects"] for p in o.get("properties", ())}
    parameters = [*(p for o in table["objects"] for p in o["parameters"]), "rotation"]
    start = ("start: NEWLINE* (import_stmt NEWLINE+)* motion_stmt NEWLINE+ "
             + ("(scene_stmt NEWLINE+)? " if declared else "")
             + f"(objective_stmt NEWLINE+)~0..2 constraint_stmt (NEWLINE+ line)~0..{MOST_LINES - 3} NEWLINE*")
    if added_lines:
        start = f"start: NEWLINE* constraint_stmt (NEWLINE+ constraint_stmt)~0..{added_lines - 1} NEWLINE*"
    lines = [start, "?line: constraint_stmt | objective_stmt",
             *(_narrowed(name, project[name], bool(objects)) for name in TAKEN_FROM_PROJECT),
             _alternatives("VALUE", [*body_names(), *objects]),
             *(_narrowed(name, f"?{name}: {rule}", bool(objects)) for name, rule in NUMBERS.items()),
             _alternatives("FUNCTION", function_names(*(r for r in RETURNS if r != "condition"))),
             _alternatives("PREDICATE", function_names("condition")),
             _alternatives("NUMBER_FUNCTION", function_names("number")),
             _alternatives("SHAPED_FUNCTION", function_names("argument")),
             _alternatives("AXIS", list(AXES)),
             _alternatives("MEMBER", [*table["components"], *(properties - NUMBER_PROPERTIES)]),
             *([_alternatives("OBJECT_NUMBER.2", [f"{o}.{p}" for o in objects for p in NUMBER_PROPERTIES])]
               if objects else []),
             _alternatives("MODULE", [f'"{module}"' for module in table["library"]]),
             _alternatives("INSTANT_UNIT", [*(unit for unit, (dim, _) in UNITS.items() if dim == TIME), "%"]),
             _alternatives("PARAMETER", parameters),
             _not_reserved("LABEL"),
             *(_scene_rules(objects) if declared else []),
             f'TEXT: /"[^"\\\\\\x00-\\x1f\\x7f]{{0,{LONGEST_TEXT}}}"/',
             "NEWLINE: /\\n/", "SPACES: /[ \\t]+/", "%ignore SPACES"]
    return "\n".join(lines) + "\n"


def scene_names(scene: str | None) -> list[str]:
    """The object names a given scene block defines (``name = kind(...)`` lines)."""
    return re.findall(r"^\s*(?:scene\s*\{\s*)?([A-Za-z_]\w*)\s*=", scene or "", re.MULTILINE)


@cache
def _parser(scene_objects: tuple[str, ...]) -> Lark:
    """The answer grammar of a task with these scene objects, compiled once."""
    return Lark(task_grammar("", list(scene_objects)), parser="earley")


def fits(answer: str, scene_objects: list[str]) -> bool:
    """Whether ``answer`` is a sentence of the answer grammar of a task with that scene."""
    try:
        _parser(tuple(scene_objects)).parse(answer.strip() + "\n")
    except LarkError:
        return False
    return True


def split_scene(source: str) -> tuple[str, str | None]:
    """A program without its scene block, and the block (``None`` if it has none)."""
    found = SCENE_BLOCK.search(source)
    return (source, None) if found is None else (source[:found.start()] + source[found.end():], found.group())


def with_scene(source: str, scene: str | None) -> str:
    """An answer with the task's scene block put in after its ``motion`` header, unless it has
    a scene of its own (a model answering without a grammar may copy the block)."""
    if not scene or split_scene(source)[1] is not None:
        return source
    lines = source.splitlines()
    header = next((i for i, line in enumerate(lines) if line.lstrip().startswith("motion")), len(lines) - 1)
    return "\n".join([*lines[:header + 1], scene.strip(), *lines[header + 1:]]) + "\n"
