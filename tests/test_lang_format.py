"""The formatter (canonical, stable, meaning-preserving) and the builder API (same IR as text)."""

from __future__ import annotations

import pytest

from motionprog.lang import ProgramError, render_text
from motionprog.lang import builder as mb
from motionprog.lang.formatter import format_module
from motionprog.lang.parser import parse
from motionprog.lang.program import check_text

MESSY = """# duck under a bar
motion "a person walks \\"forward\\"" for 6 s,seeds 4 ,model "bundled"
import "contact"
relax yaw,xz


scene {   # objects
  bar=box(center=(0,1.25,2.5),size=(3,0.1,0.3))  # the bar
  # the goal
  goal = point(0,0,5)
}
let  clearance=10cm
def low(j, h) = j.y<h
duck:always:head.y<bar.bottom-clearance when pelvis.z in[2,3]   # trailing
at start,frame 3,2s,50%:pelvis.xz==(0,0)
at end: distance(pelvis.xz,goal.xz) < 20 cm
soft every 10 frames during 1 s..3 s:feet.y>=0 weight 2
eventually after 1s: (head.y > 1 or head.y < 0.5) and not low(left_hand, 1 m) implies low(right_hand, 1) implies low(head, 2)
always: -(head.y - 1) * 2 / 3 < -(-1) - (2 - 1)
maximize max(pelvis.y) weight 0.1
"""


def _format(text: str) -> str:
    module, diagnostics = parse(text, "messy.mprog")
    assert module is not None, diagnostics
    return format_module(module)


def test_format_is_canonical_and_idempotent():
    once = _format(MESSY)
    assert _format(once) == once
    assert once.splitlines()[:12] == [
        "# duck under a bar",
        'motion "a person walks \\"forward\\"" for 6 s, seeds 4, model "bundled"',
        'import "contact"',
        "relax yaw, xz",
        "",
        "scene {  # objects",
        "  bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3))  # the bar",
        "  # the goal",
        "  goal = point(0, 0, 5)",
        "}",
        "let clearance = 10 cm",
        "def low(j, h) = j.y < h",
    ]
    assert "duck: always: head.y < bar.bottom - clearance when pelvis.z in [2, 3]  # trailing" in once
    assert "at start, frame 3, 2 s, 50%: pelvis.xz == (0, 0)" in once
    assert "soft every 10 frames during 1 s .. 3 s: feet.y >= 0 weight 2" in once
    assert ("eventually after 1 s: (head.y > 1 or head.y < 0.5) and not low(left_hand, 1 m) "
            "implies low(right_hand, 1) implies low(head, 2)") in once
    assert "always: -(head.y - 1) * 2 / 3 < -(-1) - (2 - 1)" in once


def test_formatted_program_compiles_to_the_same_ir():
    original, diagnostics = check_text(MESSY, "messy.mprog")
    assert original is not None, diagnostics
    formatted, _ = check_text(_format(MESSY), "messy.mprog")
    assert formatted == original
    assert len(original.constraints) == 7


def test_format_keeps_needed_parentheses_only():
    text = "always: (a.y - (b.y - c.y)) < ((d.y)) and (p.y < 1 or q.y < 2)\n"
    assert _format(text) == "always: a.y - (b.y - c.y) < d.y and (p.y < 1 or q.y < 2)\n"


def test_builder_yields_the_same_ir_as_text():
    text = """
    motion "a person walks forward" for 6 s, seeds 4
    scene {
      bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3))
      goal = point(0, 0, 5)
    }
    def grounded(j) = j.y < 2 cm
    duck: always: head.y < bar.bottom - 10 cm when pelvis.z in [2, 3]
    at end: distance(pelvis.xz, goal.xz) < 20 cm
    soft during 1 s .. 2 s: grounded(left_foot) or grounded(right_foot) weight 2
    eventually: left_hand near head within 5 cm
    maximize max(pelvis.y) weight 0.1
    """
    head, pelvis, bar = mb.name("head"), mb.name("pelvis"), mb.name("bar")
    program = mb.ProgramBuilder("a person walks forward", length=mb.q(6, "s"), seeds=4)
    program.scene(bar=mb.box(center=(0, 1.25, 2.5), size=(3, 0.1, 0.3)), goal=mb.point(0, 0, 5))
    program.define("grounded", ["j"], mb.name("j").y < mb.q(2, "cm"))
    program.constraint(mb.always(), head.y < bar.bottom - mb.q(10, "cm"), when=pelvis.z.in_range(2, 3), label="duck")
    program.constraint(mb.at("end"), mb.call("distance", pelvis.xz, mb.name("goal").xz) < mb.q(20, "cm"))
    grounded = [mb.call("grounded", mb.name(f"{side}_foot")) for side in ("left", "right")]
    program.constraint(mb.always(mb.window("during", mb.q(1, "s"), mb.q(2, "s"))), grounded[0] | grounded[1],
                       weight=2, soft=True)
    program.constraint(mb.eventually(), mb.name("left_hand").near(head, within=mb.q(5, "cm")))
    program.objective("maximize", mb.call("max", pelvis.y), weight=0.1)
    expected, diagnostics = check_text(text, "text.mprog")
    assert expected is not None, diagnostics
    assert program.compile().ir == expected


def test_builder_diagnostics_name_the_statement_and_quote_its_text():
    program = mb.ProgramBuilder("a person walks", length=mb.q(2, "s"))
    program.constraint(mb.always(), mb.name("head").y > 1)
    program.constraint(mb.at("end"), mb.name("lefthand").y > mb.q(1, "m"))
    with pytest.raises(ProgramError) as caught:
        program.compile()
    (diagnostic,) = caught.value.diagnostics
    assert render_text(diagnostic).splitlines()[:2] == [
        "<builder>:3:1: error: unknown joint 'lefthand'", "3 | at end: lefthand.y > 1 m"]
    assert diagnostic.help == "did you mean 'left_hand'?"
