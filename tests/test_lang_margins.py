"""Compiled margins on hand-made joint tensors (closed-form answers) and their gradients."""

from __future__ import annotations

import math

import pytest
import torch

import motionprog
from motionprog.body.skeleton import JOINT_INDEX, REST_OFFSETS, PARENTS
from motionprog.lang import ProgramError
from tests.conftest import assert_exact_gradients

torch.set_num_threads(1)


def rest_pose(frames: int = 5, dtype=torch.float64) -> torch.Tensor:
    """T-pose facing +Z with the pelvis at 0.9 m: [1, frames, 22, 3]."""
    positions = torch.zeros(22, 3, dtype=dtype)
    offsets = torch.as_tensor(REST_OFFSETS, dtype=dtype)
    for joint, parent in enumerate(PARENTS):
        positions[joint] = (positions[parent] if parent >= 0 else torch.tensor([0.0, 0.9, 0.0], dtype=dtype)) + offsets[joint]
    return positions.expand(1, frames, 22, 3).clone()


def margins(source: str, joints: torch.Tensor) -> list[float]:
    program = motionprog.compile(source, frames=joints.shape[1])
    return program.margins(joints)[0].tolist()


def test_head_ten_cm_under_the_bar_gives_ten_cm():
    joints = rest_pose()
    joints[..., JOINT_INDEX["head"], 1] = 1.10
    source = """
    scene { bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3)) }
    always: head.y < bar.bottom
    always: head.y < bar.bottom - 10 cm
    always: head below bar
    """
    assert margins(source, joints) == pytest.approx([0.10, 0.0, 0.10], abs=1e-12)


def test_distance_equality_and_range_margins():
    joints = rest_pose()
    joints[:, -1, JOINT_INDEX["pelvis"]] = torch.tensor([0.3, 0.9, 4.9], dtype=torch.float64)
    joints[:, 0, JOINT_INDEX["pelvis"]] = torch.tensor([0.03, 0.9, 0.04], dtype=torch.float64)
    source = """
    scene { goal = point(0, 0, 5) }
    at end: distance(pelvis.xz, goal.xz) < 20 cm
    at start: pelvis.xz == (0, 0) within 6 cm
    at start: pelvis.xz == (0, 0)
    at start: pelvis.y in [0.5, 0.95]
    at end: pelvis in [(0, 0, 0), (1, 1, 5)]
    at end: pelvis near goal within 50 cm
    """
    expected = [0.2 - math.sqrt(0.1), 0.01, 0.02 - 0.05, 0.05, 0.1, 0.5 - math.sqrt(0.09 + 0.81 + 0.01)]
    assert margins(source, joints) == pytest.approx(expected, abs=1e-12)


def test_velocity_and_acceleration_in_si_units():
    frames = 9
    t = torch.arange(frames, dtype=torch.float64) / 20
    joints = rest_pose(frames)
    joints[0, :, JOINT_INDEX["pelvis"], 0] = 1.5 * t          # 1.5 m/s along x
    joints[0, :, JOINT_INDEX["pelvis"], 2] = 0.5 * 2.0 * t**2  # 2 m/s^2 along z
    source = """
    at 2 frames: velocity(pelvis).x == 1.5 m/s within 0.1 m/s
    always: acceleration(pelvis).z == 2 m/s^2 within 0.25 m/s^2
    at start: speed(pelvis.x) > 1 m/s
    """
    assert margins(source, joints) == pytest.approx([0.1, 0.25, 0.5], abs=1e-9)


def test_groups_hold_for_every_joint_and_aliases_resolve():
    joints = rest_pose()
    joints[..., JOINT_INDEX["left_foot"], 1] = -0.02
    joints[..., JOINT_INDEX["right_foot"], 1] = 0.03
    source = """
    always: feet.y >= 0
    always: right_toe.y >= 0
    always: left_toe.y == left_foot.y within 1 mm
    """
    assert margins(source, joints) == pytest.approx([-0.02, 0.03, 0.001], abs=1e-12)


def test_time_quantifiers_windows_and_percent():
    frames = 21
    joints = rest_pose(frames)
    joints[0, :, JOINT_INDEX["pelvis"], 1] = torch.arange(frames, dtype=torch.float64) / 10  # y = frame / 10
    source = """
    always: pelvis.y > 0.5
    eventually: pelvis.y > 0.5
    during 10 frames .. 15 frames: pelvis.y > 0.5
    at 50%: pelvis.y > 0.5
    before 0.25 s: pelvis.y < 1
    after frame 20: pelvis.y > 1
    eventually before 3 frames: pelvis.y > 0.1
    every 10 frames: pelvis.y < 1.5
    at 0.1 s, end: pelvis.y > 0
    """
    expected = [-0.5, 1.5, 0.5, 0.5, 0.5, 1.0, 0.2, -0.5, 0.2]
    assert margins(source, joints) == pytest.approx(expected, abs=1e-12)


def test_logic_is_min_max_and_negation_and_when_is_implication():
    frames = 4
    joints = rest_pose(frames)
    joints[0, :, JOINT_INDEX["head"], 1] = torch.tensor([1.0, 1.2, 1.4, 1.6], dtype=torch.float64)
    joints[0, :, JOINT_INDEX["pelvis"], 2] = torch.tensor([0.0, 1.0, 2.5, 4.0], dtype=torch.float64)
    source = """
    at start: head.y > 0.5 and head.y < 1.1
    at start: head.y > 1.5 or head.y < 1.3
    at start: not head.y > 1.5
    at start: head.y > 0.9 implies head.y < 0.95
    always: head.y < 1.45 when pelvis.z in [2, 3]
    """
    # frame 2 is the only frame in the window: 1.45 - 1.4; elsewhere -condition >= 0.5
    assert margins(source, joints) == pytest.approx([0.1, 0.3, 0.5, -0.05, 0.05], abs=1e-12)


def test_com_facing_midpoint_direction_and_angle():
    joints = rest_pose()
    source = """
    always: com.y == 1.5 within 1 m
    always: angle(facing, (0, 0, 1)) < 10 deg
    always: midpoint(left_wrist, right_wrist).z == 0 within 1 cm
    always: angle(direction(left_shoulder, left_wrist), (0, -1, 0)) < 5 deg  # arms hang down
    always: norm(direction(pelvis, head)) == 1 within 0.5
    """
    result = margins(source, joints)
    com = motionprog.body.mass.com(joints)[0, 0]
    assert result[0] == pytest.approx(1.0 - abs(com[1].item() - 1.5), abs=1e-12)
    assert result[1:] == pytest.approx([math.radians(10), 0.01, math.radians(5), 0.5], abs=1e-7)


def test_objects_signed_distance_inside_outside_above():
    joints = rest_pose()
    joints[..., JOINT_INDEX["left_wrist"], :] = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    source = """
    scene {
      ball = sphere(center = (0, 1, 1.1), radius = 30 cm)
      floor = plane((0, 0.5, 0), (0, 1, 0))
      pillar = cylinder(center = (1, 1, 1), radius = 10 cm, height = 2)
      beam = line((0, 1, -1), (0, 1, 3))
    }
    always: left_wrist inside ball
    always: left_wrist outside ball
    always: left_wrist above floor
    always: distance(left_wrist, pillar) > 0
    always: left_wrist near beam within 1 cm
    always: left_wrist above pillar
    """
    assert margins(source, joints) == pytest.approx([0.2, -0.2, 0.5, 0.9, 0.01, -1.0], abs=1e-9)


def test_objectives_report_their_value_and_loss_subtracts_it():
    frames = 4
    joints = rest_pose(frames)
    joints[0, :, JOINT_INDEX["pelvis"], 1] = torch.tensor([0.8, 0.9, 1.2, 1.0], dtype=torch.float64)
    source = """
    maximize max(pelvis.y) weight 2
    minimize pelvis.y
    """
    program = motionprog.compile(source, frames=frames)
    assert program.margins(joints)[0].tolist() == pytest.approx([1.2, -0.975], abs=1e-12)
    assert program.loss(joints, temperature=0.0).item() == pytest.approx(-2 * 1.2 + 0.975, abs=1e-12)
    assert [c.kind for c in program.constraints] == ["objective", "objective"]


def test_loss_is_weighted_hinge_of_constraint_margins():
    joints = rest_pose()
    joints[..., JOINT_INDEX["head"], 1] = 1.10
    program = motionprog.compile("soft always: head.y < 1 m weight 3\nalways: head.y > 1 m", frames=5)
    assert program.loss(joints, temperature=0.0).item() == pytest.approx(3 * 0.1, abs=1e-12)
    tau = 0.01  # smooth min over 5 equal frames lowers each margin by tau * log(5)
    smooth = [-0.1 - tau * math.log(5), 0.1 - tau * math.log(5)]
    hinge = [tau * math.log1p(math.exp(-m / tau)) for m in smooth]
    assert program.loss(joints).item() == pytest.approx(3 * hinge[0] + hinge[1], rel=1e-9)
    assert [c.hard for c in program.constraints] == [False, True]


def test_per_frame_margins_are_nan_outside_the_window():
    joints = rest_pose(6)
    program = motionprog.compile("during 2 frames .. 3 frames: pelvis.y > 0", frames=6)
    per_frame = program.per_frame_margins(joints)
    assert per_frame.shape == (1, 1, 6)
    assert torch.isnan(per_frame[0, 0, [0, 1, 4, 5]]).all()
    assert per_frame[0, 0, [2, 3]].tolist() == pytest.approx([0.9, 0.9])


def test_margins_are_batched_over_seeds():
    joints = rest_pose().repeat(3, 1, 1, 1)
    joints[:, :, JOINT_INDEX["head"], 1] = torch.tensor([1.0, 1.5, 2.0], dtype=torch.float64)[:, None]
    program = motionprog.compile("always: head.y < 1.6 m", frames=5)
    assert program.margins(joints)[:, 0].tolist() == pytest.approx([0.6, 0.1, -0.4])


def test_wrong_frame_count_is_an_input_error():
    program = motionprog.compile("always: head.y < 1", frames=5)
    with pytest.raises(motionprog.errors.InputError, match="5 frames"):
        program.margins(rest_pose(6))


GRADIENT_PROGRAM = """
scene {
  bar = box(center = (0, 1.25, 2.5), size = (3, 0.1, 0.3), rotation = (0, 20 deg, 0))
  ball = sphere(center = (0, 1, 0.5), radius = 20 cm)
  slope = plane((0, 0, 0), (0, 0.9, -0.3))
  pillar = cylinder((1, 1, 1), 0.2, 2)
  beam = line((0, 0, 0), (0, 0, 4))
  goal = point(0, 0, 5)
}
def grounded(j) = j.y < 2 cm
let reach = 60 cm
always: head.y < bar.bottom - 10 cm when pelvis.z in [2, 3]
at start: pelvis.xz == (0, 0) within 5 cm
at end: distance(pelvis.xz, goal.xz) < 20 cm
always: feet.y >= 0
always: com.xz == midpoint(left_foot, right_foot).xz within 10 cm
eventually: speed(pelvis) > 1 m/s
always: norm(acceleration(left_wrist)) < 30 m/s^2
always: angle(direction(left_shoulder, left_elbow), (1, 0, 0)) < 20 deg
always: angle(facing, (0, 0, 1)) < 30 deg
always: left_hand inside ball or right_hand outside ball
always: left_foot above slope and not right_foot below slope
always: distance(head, pillar) > 10 cm implies grounded(left_foot)
always: hands near beam within reach
always: abs(left_wrist.y - right_wrist.y) < 5 cm
at 1 frames, 3 frames: max(left_wrist.x, right_wrist.x) < min(head.x, 1 m)
always: left_hand.xz in [(-1, -1), (1, 1)]
always: not collide(body, bar) and collide(right_arm, ball)
at end - 1 frames: distance(pelvis.xz, pelvis.xz @ start) > 1 m and highest(hands.y) > lowest(feet.y)
always: centroid(body.xz) == mean(pelvis.xz) within 20 cm
maximize max(pelvis.y) weight 0.1
minimize mean(speed(com)) until 0.5 m/s
"""


def test_every_atom_kind_has_finite_difference_gradients():
    torch.manual_seed(0)
    frames = 4
    program = motionprog.compile(GRADIENT_PROGRAM, frames=frames)
    joints = rest_pose(frames) + 0.05 * torch.randn(1, frames, 22, 3, dtype=torch.float64)
    assert_exact_gradients(program.margins, joints, eps=1e-6, atol=1e-5)
    assert_exact_gradients(program.loss, joints, eps=1e-6, atol=1e-5)


def test_gradients_stay_finite_at_singular_points():
    joints = torch.zeros(1, 3, 22, 3, dtype=torch.float64, requires_grad=True)  # every joint at the origin
    program = motionprog.compile(GRADIENT_PROGRAM, frames=3)
    program.loss(joints).backward()
    assert torch.isfinite(joints.grad).all()


def test_compile_errors_raise_program_error_with_diagnostics():
    with pytest.raises(ProgramError) as caught:
        motionprog.compile("always: lefthand.y < 1")
    assert caught.value.diagnostics[0].code == "E201"
    assert "left_hand" in caught.value.diagnostics[0].help


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_margins_on_cuda_match_cpu():
    torch.manual_seed(0)
    program = motionprog.compile(GRADIENT_PROGRAM, frames=4)
    joints = rest_pose(4) + 0.05 * torch.randn(3, 4, 22, 3, dtype=torch.float64)
    assert torch.allclose(program.margins(joints.cuda()).cpu(), program.margins(joints), atol=1e-9)
