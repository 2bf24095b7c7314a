"""The language reference given to the model, generated so it cannot drift from the language.

Everything but the short syntax sketch comes from the sources of truth:
``motionprog.lang.catalogue()`` (built-ins, library functions, objects, joints, aliases,
groups, components) and the unit table (``motionprog.lang.units.UNITS``). The grammar itself
is not in the prompt (a small model's context cannot spare its tokens): servers that can
constrain decoding get it as a grammar instead (``tool_grammar()`` here, ``gbnf.py``).
"""

from __future__ import annotations

import re
from importlib import resources

from motionprog.body.skeleton import FPS
from motionprog.lang import catalogue
from motionprog.lang.units import UNITS

GRAMMAR_FILE = "motionprog.lark"


def grammar_text() -> str:
    """The project's grammar, as shipped in the package ``motionprog.grammar``."""
    return resources.files("motionprog.grammar").joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


def answer_grammar() -> str:
    """The grammar a model's answer is held to: the project's without comments. A comment can
    go on for ever, and small models do: measured with Qwen2.5-Coder-1.5B under the full
    grammar, an answer of repeated ``# Note: ...`` lines until the token limit."""
    text = grammar_text()
    return re.sub(r"^(COMMENT:.*|%ignore COMMENT)\n", "", text, flags=re.MULTILINE)


def tool_grammar(grammar: str | None = None) -> str:
    """``grammar`` (default: the project's) in the Lark dialect that custom tools accept.

    That dialect (llguidance: Earley with a dynamic lexer) has no terminal priorities and no
    look-arounds in regexes, so ``NAME.2:`` becomes ``NAME:`` and ``(?!...)``, ``(?=...)``,
    ``(?<!...)``, ``(?<=...)`` groups are dropped; the dynamic lexer resolves by context what
    priorities and look-aheads resolve for LALR. Tree-shaping marks (``-> alias``, ``?rule``,
    ``!rule``) only matter to a parse tree and go too, and so do comments (fewer tokens).
    """
    text = grammar_text() if grammar is None else grammar
    text = re.sub(r"^\s*//.*\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"^([A-Z_][A-Z0-9_]*)\.-?\d+(\s*:)", r"\1\2", text, flags=re.MULTILINE)
    text = re.sub(r"^[?!]([a-z_])", r"\1", text, flags=re.MULTILINE)
    text = re.sub(r"[ \t]*->[ \t]*\w+", "", text)
    return re.sub(r"\(\?<?[!=](?:\\.|[^()\\])*\)", "", text)


SYNTAX = """\
A program is one statement per line: an `import "module"` line for each standard-library \
module whose functions it calls, the header `motion "what the person does" for 6 s`, then one \
line per requirement, `name: TIME: PREDICATE` (the name is optional), and optional objectives \
`maximize VALUE` / `minimize VALUE`.
- TIME: `always`, `at start`, `at end`, `at 2 s`, `at frame 40`, `at 1 s, 3 s`, `during 1 s .. 3 s`, \
`before 2 s`, `after end - 1 s`, `eventually`, `eventually during 1 s .. 2 s`.
- PREDICATE: `<`, `<=`, `>`, `>=`, `==` (never `=`), `x == y within 3 cm`, `x in [a, b]`, \
`a near b within 5 cm`, `p inside obj` (`outside`, `above`, `below`), `and`, `or`, `not`, `implies`; \
`PREDICATE when CONDITION` holds only at the frames where CONDITION does.
- Values: joints and their components (`head`, `left_hand.y`, `pelvis.xz`), object properties \
(`.top`, `.center`), numbers with units (`10 cm`, `1.2 m`, `30 deg`, `3 m/s`), vectors \
`(0, 1, 0)`, a value at one instant (`head.y @ 2 s`, `pelvis.xz @ start`), `+ - * /` and the \
functions below. No loops, no `=`, no other language."""


def _bullets(entries: list[dict[str, object]]) -> list[str]:
    """One line per catalogue entry: signature, unit, the doc's first clause and, for objects,
    their properties."""
    return [f"- `{entry['signature']}` ({entry['unit']}): {str(entry['doc']).split(';')[0]}"
            + (f"; properties {', '.join('.' + p for p in entry['properties'])}" if "properties" in entry else "")
            for entry in entries]


def language_reference() -> str:
    """A compact Markdown reference of the language, generated from the catalogue: the shape
    of a program, every built-in, construct, library function, scene object, body name and unit."""
    table = catalogue()
    groups = ", ".join(table["groups"])
    aliases = ", ".join(f"{alias}={joint}" for alias, joint in table["aliases"].items())
    units = " ".join(UNITS)
    return "\n".join([
        "## Program shape", SYNTAX,
        "## Built-in functions", *_bullets(table["functions"]),
        "## Standard library (write `import \"name\"` at the top to use its functions)",
        *[f"- `import \"{name}\"`: " + "; ".join(f"`{d['signature']}`: {d['doc']}" for d in defs)
          for name, defs in table["library"].items()],
        "## Scene objects (`scene { name = kind(...) }`)", *_bullets(table["objects"]),
        "## Body",
        f"Global joint positions in metres, Y up, the person starts at the origin facing +Z, {FPS} frames per second.",
        "Joints: " + ", ".join(table["joints"]) + ".",
        "Aliases: " + aliases + ".",
        "Groups (a constraint on a group holds for each of its joints): " + groups + ".",
        *_bullets(table["atoms"]),
        "Components: " + " ".join(f".{c}" for c in table["components"]) + ".",
        "Units: " + units + " (% of the motion, for instants only).",
    ])
