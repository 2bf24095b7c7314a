"""The language reference given to the model, generated so it cannot drift from the language.

Everything comes from the sources of truth: the grammar file (``grammar/motionprog.lark``,
shipped as ``motionprog.grammar``), ``motionprog.lang.catalogue()`` (built-ins, joints,
aliases, groups, components) and the unit table (``motionprog.lang.units.UNITS``).
``tool_grammar()`` adapts the same grammar to the Lark dialect of OpenAI custom tools.
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


def _bullets(entries: list[dict[str, object]]) -> list[str]:
    """One line per catalogue entry: signature, unit, doc and, for objects, their properties."""
    return [f"- `{entry['signature']}` ({entry['unit']}): {entry['doc']}"
            + (f"; properties {', '.join('.' + p for p in entry['properties'])}" if "properties" in entry else "")
            for entry in entries]


def language_reference() -> str:
    """A Markdown reference of the language: grammar, built-ins, body names and units."""
    table = catalogue()
    groups = "; ".join(f"`{name}` = {', '.join(joints)}" for name, joints in table["groups"].items())
    aliases = ", ".join(f"`{alias}` = {joint}" for alias, joint in table["aliases"].items())
    units = ", ".join(f"`{word}` ({dim.symbol()}, x{factor:g})" for word, (dim, factor) in UNITS.items())
    sections = [
        "## Grammar (Lark, LALR(1); whitespace and newlines are insignificant, `#` starts a comment)",
        "```lark\n" + grammar_text().strip() + "\n```",
        "## Built-in functions", *_bullets(table["functions"]),
        "## Constructs", *_bullets(table["constructs"]),
        "## Standard library (`import \"name\"` at the top, then call the functions)",
        *[f"- `import \"{name}\"`: " + "; ".join(f"`{d['signature']}`: {d['doc']}" for d in defs)
          for name, defs in table["library"].items()],
        "## Scene objects (inside `scene { name = kind(...) }`, arguments positional or `name = value`)",
        *_bullets(table["objects"]),
        "## Body",
        f"Positions are global joint positions in metres, Y up, initial facing +Z, {FPS} frames per second.",
        "Joints: " + ", ".join(f"`{name}`" for name in table["joints"]) + ".",
        "Aliases: " + aliases + ".",
        "Groups (a constraint on a group must hold for every joint of it): " + groups + ".",
        *_bullets(table["atoms"]),
        "Components of any 3-vector: " + ", ".join(f"`.{c}`" for c in table["components"]) + ".",
        "## Units",
        "Numbers take a unit word (converted to SI): " + units + ". `%` is a fraction of the motion "
        "in time instants only. A bare number takes the unit of what it is compared or added to.",
    ]
    return "\n\n".join(sections)
