"""The constructs of issue 19: values at another instant, arithmetic on time, stopping
tolerances of objectives, relaxation of one kind or about a point, and aggregates of vectors
and over a group's joints. Each: parse and format round trip, diagnostics, margins against
closed forms, gradients against finite differences, explain text and the builder."""

from __future__ import annotations

import math

import pytest
import torch

from typer.testing import CliRunner

import motionprog
from motionprog.body.placement import place
from motionprog.body.skeleton import JOINT_INDEX
from motionprog.cli.app import app
from motionprog.lang import ProgramError, check_source
from motionprog.lang import builder as mb
from motionprog.lang.formatter import format_module
from motionprog.lang.ir import Relax
from motionprog.lang.parser import parse
from motionprog.lang.program import check_text
from tests.conftest import assert_exact_gradients

torch.set_num_threads(1)
PELVIS, HEAD, LEFT_WRIST, RIGHT_WRIST = (JOINT_INDEX[n] for n in ("pelvis", "head", "left_wrist", "right_wrist"))


def ramp(frames: int = 40) -> torch.Tensor:
    """Joints [1, T, 22, 3] float64: the pelvis walks +Z at 1 m/s from the origin, the head rises
    1 cm per frame from 1.5 m, the wrists sit at x = +-0.3 m, 1 m up."""
    joints = torch.zeros(1, frames, 22, 3, dtype=torch.float64)
    t = torch.arange(frames, dtype=torch.float64)
    joints[0, :, PELVIS, 2] = t / 20
    joints[0, :, PELVIS, 1] = 0.9
    joints[0, :, HEAD, 1] = 1.5 + t / 100
    joints[0, :, LEFT_WRIST] = torch.tensor([0.3, 1.0, 0.0], dtype=torch.float64)
    joints[0, :, RIGHT_WRIST] = torch.tensor([-0.3, 1.2, 0.0], dtype=torch.float64)
    return joints


def margins(source: str, joints: torch.Tensor) -> list[float]:
    return motionprog.compile(source, frames=joints.shape[1]).margins(joints)[0].tolist()


def round_trips(source: str) -> str:
    """The canonical text, checked to be stable and to compile to the same IR as the source."""
    module, diagnostics = parse(source)
    assert diagnostics == []
    text = format_module(module)
    assert format_module(parse(text)[0]) == text
    assert check_text(text, frames=40)[0] == check_text(source, frames=40)[0]
    return text


def random_pose(frames: int = 6) -> torch.Tensor:
    torch.manual_seed(0)
    return (ramp(frames) + 0.05 * torch.randn(1, frames, 22, 3, dtype=torch.float64)).requires_grad_()


# ---- a value at another instant, and arithmetic on time


def test_a_value_at_another_instant_against_closed_forms():
    source = """
    at end: distance(pelvis.xz, pelvis.xz @ start) > 1 m
    at end: pelvis.xz == pelvis.xz @ start within 20 cm
    at 1 s: head.y > head.y @ 0.5 s + 5 cm
    always: head.y >= head.y @ start
    """
    # pelvis travels 39/20 m; the head rises 10 cm between frames 10 and 20
    assert margins(source, ramp()) == pytest.approx([1.95 - 1, 0.2 - 1.95, 0.10 - 0.05, 0.0], abs=1e-12)


def test_arithmetic_on_time_in_instants_and_windows():
    source = """
    at end - 1 s: head.y > 1.5 m
    at start + 10 %: head.y > 1.5 m
    during 0.5 s .. end - 0.5 s: head.y > 1.5 m
    eventually during 1 s .. (end - 0.25 s): head.y < 1.5 m
    at end: head.y @ (end - 1 s) > head.y @ (start + 25 %)
    """
    # end = frame 39; 10 % of 39 frames is frame 4 (3.9 rounded); 25 % is frame 10
    expected = [0.19, 0.04, 0.10, -(0.20 - 0.0), 0.19 - 0.10]
    assert margins(source, ramp()) == pytest.approx(expected, abs=1e-12)


def test_time_arithmetic_outside_the_motion_is_clamped_with_a_warning():
    (warning,) = check_source('motion "w" for 2 s\nat end + 1 s: head.y > 1', "w.mprog")
    assert (warning.code, warning.message) == ("W301", "end + 1 s is outside the motion (frames 0 to 39); using frame 39")


@pytest.mark.parametrize(("source", "code", "message"), [
    ("at end: head.y @ start > 1 and (head.y > 1) @ start", "E206", "'@' needs a value, got a predicate"),
    ("at end: head.y @ 10 cm > 1", "E205", "expected a time (s, ms, frames, %), got '10 cm'"),
    ("at end - 2 m: head.y > 1", "E205", "expected a time (s, ms, frames, %), got '2 m'"),
])
def test_instant_errors_name_the_problem(source: str, code: str, message: str):
    (diagnostic,) = check_source(source, "w.mprog")
    assert (diagnostic.code, diagnostic.message) == (code, message)


def test_instants_and_at_round_trip_through_fmt():
    text = round_trips("at (end-1 s): (head @ start).y<head.y@(start+10 %)+1 cm\nduring 2 s..end-0.5 s: head.y>1")
    assert text == ("at end - 1 s: (head @ start).y < head.y @ (start + 10%) + 1 cm\n"
                    "during 2 s .. end - 0.5 s: head.y > 1\n")


def test_values_at_an_instant_have_exact_gradients():
    program = motionprog.compile("at end: distance(left_wrist, left_wrist @ start) > 10 cm\n"
                                 "during 1 frames .. end - 1 frames: head.y - head.y @ (start + 2 frames) > 0",
                                 frames=6)
    assert_exact_gradients(program.margins, random_pose(), eps=1e-6, atol=1e-6)


def test_explain_and_builder_spell_instants():
    (info,) = motionprog.compile("at end - 1 s: pelvis.xz == pelvis.xz @ start within 20 cm", frames=40).constraints
    assert info.description == "pelvis.xz equals pelvis.xz @ start within 20 cm, at frame 19 (0.95 s)"
    builder = mb.ProgramBuilder("walk back", length=mb.q(2, "s"))
    pelvis = mb.name("pelvis")
    builder.constraint(mb.at(("end", "-", mb.q(1, "s"))), pelvis.xz.eq(pelvis.xz.at("start"), within=mb.q(20, "cm")))
    assert builder.source() == ('motion "walk back" for 2 s\n'
                                "at end - 1 s: pelvis.xz == pelvis.xz @ start within 20 cm\n")
    assert builder.compile().ir == motionprog.compile(builder.source()).ir


# ---- goals without a threshold that still stop


def test_until_sets_the_finish_line_of_an_objective():
    program = motionprog.compile("at end: pelvis.z > 1 m\n"
                                 "minimize distance(left_wrist, right_wrist) until 1 cm\n"
                                 "maximize head.y until 1.6 m\n"
                                 "maximize max(pelvis.z)", frames=40)
    stops = [info.stop for info in program.constraints]
    assert stops == [None, -0.01, 1.6, None]
    assert program.finish_line.tolist() == [0.0, -0.01, 1.6, math.inf]
    values = program.margins(ramp())[0].tolist()
    assert values == pytest.approx([0.95, -math.sqrt(0.36 + 0.04), 1.5 + 0.39 / 2, 1.95], abs=1e-12)
    met = (program.margins(ramp()) >= program.finish_line).tolist()
    assert met == [[True, False, True, False]]


def test_an_objective_stops_pulling_once_it_reaches_its_until_value():
    program = motionprog.compile("maximize head.y until 1.6 m", frames=40)
    below = ramp()
    below[0, :, HEAD, 1] = 1.5
    above = ramp()
    above[0, :, HEAD, 1] = 1.7
    for joints, pull in ((below, 1 / 40), (above, 0.0)):
        joints.requires_grad_(True)
        program.loss(joints).sum().backward()
        # a mean over 40 frames: each frame's head height gets 1/40 of the (saturating) pull
        assert -joints.grad[0, 0, HEAD, 1].item() == pytest.approx(pull, abs=1e-5)  # 10 tau from the line
    assert program.loss(above.detach()).item() == pytest.approx(-1.6, abs=0.01 * math.log(2) + 1e-9)


@pytest.mark.parametrize(("source", "code", "message"), [
    ("minimize distance(hands, head) until 1 s", "E205", "unit mismatch in 'until': m and s"),
    ("minimize distance(left_hand, head) until head.y", "E206",
     "'until' needs a constant such as 1 cm, not a value of the motion"),
    ("minimize distance(left_hand, head) until (1, 2)", "E206", "'until' needs a number, got a 2-vector"),
])
def test_until_errors(source: str, code: str, message: str):
    (diagnostic,) = [d for d in check_source(source, "w.mprog") if d.level == "error"]
    assert (diagnostic.code, diagnostic.message) == (code, message)


def test_until_round_trips_explains_and_builds():
    text = round_trips("label: minimize distance(left_hand,head) until 1 cm+1 cm when head.y>1 weight 2")
    assert text == "label: minimize distance(left_hand, head) until 1 cm + 1 cm when head.y > 1 weight 2\n"
    (info,) = motionprog.compile("minimize distance(left_hand, head) until 1 cm", frames=40).constraints
    assert info.description == ("minimize distance(left_hand, head) until it is at most 1 cm, "
                                "averaged over the whole motion")
    builder = mb.ProgramBuilder()
    builder.objective("maximize", mb.name("head").y, until=mb.q(1.6, "m"))
    assert builder.source() == "maximize head.y until 1.6 m\n"
    assert builder.compile(frames=40).constraints[0].stop == 1.6


# ---- relaxation of one kind, or about a point


def test_relax_names_the_free_placement_and_its_pivot():
    cases = {
        "relax yaw, xz": Relax(True, True, (0.0, 0.0)),
        "relax yaw": Relax(True, False, (0.0, 0.0)),
        "relax xz": Relax(False, True, (0.0, 0.0)),
        "relax yaw about (1, 2 m), xz": Relax(True, True, (1.0, 2.0)),
        "relax yaw about midpoint(a, b).xz": Relax(True, False, (2.0, 2.5)),
    }
    scene = "scene {\n a = point(1, 0, 2)\n b = point(3, 0, 3)\n}\n"
    for statement, expected in cases.items():
        program = motionprog.compile(scene + statement + "\nat end: pelvis near a", frames=4)
        assert (program.relax, program.relaxed) == (expected, True), statement
    assert not motionprog.compile("at end: head.y > 1", frames=4).relaxed


def test_a_pair_of_targets_free_to_turn_about_their_midpoint_is_met_on_the_placed_motion():
    source = """
    scene {
      table_a = point(1, 1, 2)
      table_b = point(3, 1, 2)
    }
    relax yaw about midpoint(table_a, table_b).xz
    at start: left_wrist near table_a within 1 cm
    at end: left_wrist near table_b within 1 cm
    """
    program = motionprog.compile(source, frames=40)
    joints = ramp()
    # the wrist carries the object from (2, 1, 1) to (2, 1, 3): the same pair turned 90 degrees
    joints[0, :, LEFT_WRIST] = torch.stack([torch.full((40,), 2.0), torch.ones(40), 1 + 2 * torch.arange(40) / 39],
                                           -1).double()
    assert max(program.margins(joints)[0].tolist()) < -1.0
    yaw = torch.tensor([math.pi / 2], dtype=torch.float64)
    placed = place(joints, yaw, torch.zeros(1, 2, dtype=torch.float64), program.relax.pivot)
    assert program.margins(placed)[0].tolist() == pytest.approx([0.01, 0.01], abs=1e-9)


def test_the_pivot_stays_put_and_placement_gradients_are_exact():
    joints = random_pose(3)
    pivot = torch.tensor([0.4, -1.0], dtype=torch.float64)
    at_pivot = torch.tensor([0.4, 0.7, -1.0], dtype=torch.float64).expand(1, 3, 22, 3)
    turned = place(at_pivot, torch.tensor([1.1], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64), pivot)
    assert torch.allclose(turned, at_pivot, atol=1e-12)
    yaw = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    shift = torch.tensor([[0.2, -0.1]], dtype=torch.float64, requires_grad=True)
    program = motionprog.compile("relax yaw about (0.4, -1), xz\nalways: distance(hands, (1, 1, 1)) < 2 m", frames=3)
    assert torch.autograd.gradcheck(lambda j, a, s: program.margins(place(j, a, s, program.relax.pivot)),
                                     (joints, yaw, shift), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(("source", "message"), [
    ("relax xz about (1, 2)", "only 'yaw' turns about a point, not 'xz'"),
    ("relax yaw about head.xz", "'about' needs a point fixed in the scene, such as (1, 2) or goal.xz"),
    ("relax yaw about (1, 2, 3)", "'about' needs a 2-vector, got a 3-vector"),
    ("relax yaw about (1 s, 2 s)", "unit mismatch in 'about': s and m"),
    ("relax yaw about (1, 2)\nrelax yaw about (1, 3)", "'relax yaw' names its pivot once"),
])
def test_relax_errors(source: str, message: str):
    (diagnostic,) = check_source(source + "\nalways: head.y > 1", "w.mprog")
    assert diagnostic.message == message


def test_relax_round_trips_explains_and_builds(tmp_path):
    assert round_trips("relax yaw about(1,2),xz\nalways: head.y>1") == "relax yaw about (1, 2), xz\nalways: head.y > 1\n"
    path = tmp_path / "turn.mprog"
    path.write_text('motion "carry" for 2 s\nrelax yaw about (1, 2)\nalways: head.y > 1\n')
    result = CliRunner().invoke(app, ["explain", str(path)])
    assert '"carry", 40 frames (2 s), 1 seed(s), relaxed: holds up to a turn about Y through (1, 2)' in result.output
    builder = mb.ProgramBuilder()
    builder.relax("yaw", "xz", about=(1, 2))
    builder.constraint(mb.always(), mb.name("head").y > 1)
    assert builder.source() == "relax yaw about (1, 2), xz\nalways: head.y > 1\n"
    assert builder.compile(frames=4).relax == Relax(True, True, (1.0, 2.0))


# ---- aggregates of vectors, and over a group's joints


def test_aggregates_of_vectors_over_the_window():
    source = """
    always: mean(pelvis.xz) == (0, 0.975) within 1 mm
    during 1 s .. end: max(pelvis.xz).z > 1.9 m
    always: min(left_wrist) == (0.3, 1, 0) within 1 mm
    """
    assert margins(source, ramp()) == pytest.approx([0.001, 0.05, 0.001], abs=1e-12)


def test_aggregates_over_the_joints_of_a_group_at_each_frame():
    joints = ramp()
    source = """
    always: highest(hands.y) > 1.1 m
    always: lowest(hands.y) > 1.1 m
    always: centroid(hands) == (0, 1.1, 0) within 1 cm
    always: lowest(distance(hands, (0.3, 1, 0))) < 5 cm
    at end: distance(centroid(body.xz), centroid(body.xz) @ start) > 0
    """
    # the right wrist is the higher hand (1.2 m); the left one sits exactly at (0.3, 1, 0)
    body_shift = 1.95 / 22  # only the pelvis moves: the centroid of 22 joints moves 1/22 as far
    assert margins(source, joints) == pytest.approx([0.1, -0.1, 0.01, 0.05, body_shift], abs=1e-12)


@pytest.mark.parametrize(("source", "message"), [
    ("always: highest(hands) > 1", "highest() needs a number, got a 3-vector"),
    ("always: centroid(head.y > 1) > 1", "centroid() needs a value, got a predicate"),
    ("always: max(hands.xz, feet.xz) > 1", "max needs a number, got a 2-vector"),
])
def test_aggregate_errors(source: str, message: str):
    (diagnostic,) = check_source(source, "w.mprog")
    assert (diagnostic.code, diagnostic.message) == ("E206", message)


def test_aggregates_have_exact_gradients_and_explain_and_build():
    program = motionprog.compile("always: highest(hands.y) - lowest(feet.y) > 1 m\n"
                                 "always: centroid(body.xz) == mean(pelvis.xz) within 10 cm\n"
                                 "maximize max(left_wrist.xz).x", frames=6)
    joints = random_pose()
    assert_exact_gradients(program.margins, joints, eps=1e-6, atol=1e-6)
    assert_exact_gradients(program.loss, joints, eps=1e-6, atol=1e-6)
    assert program.constraints[0].description == "highest(hands.y) - lowest(feet.y) is above 1 m, at every frame of the motion"
    builder = mb.ProgramBuilder()
    builder.constraint(mb.always(), mb.call("highest", mb.name("hands").y) > mb.q(1, "m"))
    assert builder.source() == "always: highest(hands.y) > 1 m\n"
    assert builder.compile(frames=6).ir == motionprog.compile(builder.source(), frames=6).ir
