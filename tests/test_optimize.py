"""The latent optimizer on a tiny random bundled-architecture model (real DDIM sampler, real
feature decoder, real compiled programs): satisfaction, reports, conflicts, determinism,
gradients through the sampler, relaxed placement and the reference recipe."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from motionprog.body.skeleton import BONE_LENGTHS, PARENTS
from motionprog.errors import InputError
from motionprog.optimize import OptimizeConfig, generate, load_program
from motionprog.lang.ir import Relax
from motionprog.optimize import naturalness
from motionprog.optimize.decode import Decoder
from motionprog.optimize.latent import Search, noise_penalty, nonfinite_message, normalize_per_seed, optimize_latent
from motionprog.optimize.naturalness import measure
from motionprog.optimize.polish import METRIC_SLACK
from motionprog.optimize.recipes import fast_recipe, reference_recipe
from motionprog.optimize.solution import Iterate
from motionprog.optimize.verdict import choose_best, stalled, violations

FAST = OptimizeConfig(steps=4, iterations=40, seeds=4, polish_iterations=10, natural_weight=0.0, candidates=0)
"""The tiny model is random, not a prior: its jerky output would make the naturalness penalty
(tested on its own below) dominate every program. Candidates are tested on their own below."""


def decode_joints(model, z, text, steps, use_checkpoint, rigid):
    return Decoder(model, text, steps, None, rigid, use_checkpoint)(z)


def learning_rates(recipe, updates):
    """The learning rate of each of ``updates`` Adam updates, read from the real optimizer."""
    search = Search.start(torch.zeros(1, 4, 2), Relax(), recipe)
    rates = []
    for _ in range(updates):
        rates.append(search.optimizer.param_groups[0]["lr"])
        search.z.grad = torch.zeros_like(search.z)
        search.optimizer.step()
        search.scheduler.step()
    return rates

REACHABLE = """motion "a person walks" for 40 frames, seeds 4
pelvis_band: at frame 10: pelvis.y in [1.0, 1.02]
"""

INFEASIBLE = """motion "a person walks" for 40 frames, seeds 2
high: at frame 10: head.y > 3 m
low: at frame 10: head.y < 1 m
"""

RELAXED = """motion "a person walks" for 40 frames, seeds 2
relax yaw, xz
arrive: at end: pelvis.xz == (1.5, -0.5) within 5 cm
"""

REPORT_KEYS = {
    "satisfied", "constraints", "metrics", "iterations", "time_s", "peak_memory_mb", "seeds", "history",
    "violated", "conflicts", "error", "method", "model", "best_seed", "time_to_satisfy_s", "polish", "placement",
}
ROW_KEYS = {"name", "source", "hard", "weight", "margin", "unit", "satisfied"}


def test_reachable_program_ends_satisfied_with_nonnegative_margins(tiny_model):
    result = generate(REACHABLE, model=tiny_model, config=FAST)
    report = result.report
    assert report["satisfied"] is True
    (row,) = report["constraints"]
    assert row["name"] == "pelvis_band" and row["unit"] == "m" and row["satisfied"] is True
    assert row["margin"] >= 0
    pelvis_y = float(result.motion.joints[10, 0, 1])
    assert 1.0 <= pelvis_y <= 1.02
    assert row["margin"] == pytest.approx(min(pelvis_y - 1.0, 1.02 - pelvis_y), abs=1e-5)
    assert report["iterations"] < FAST.iterations  # stopped early once a seed satisfied it


def test_report_has_every_field_and_is_json(tiny_model):
    report = generate(REACHABLE, model=tiny_model, config=FAST).report
    assert REPORT_KEYS <= set(report)
    assert ROW_KEYS <= set(report["constraints"][0])
    assert {"foot_skating_ratio", "max_acceleration", "floor_penetration", "bone_length_drift"} <= set(report["metrics"])
    assert [s["seed"] for s in report["seeds"]] == [0, 1, 2, 3]
    assert len(report["history"]["margins"]) == report["iterations"] + 1
    assert report["time_s"] > 0
    assert json.loads(json.dumps(report)) == report


def test_peak_memory_counts_what_the_block_holds():
    import mmap

    from motionprog.optimize.memory import peak_memory

    with peak_memory(torch.device("cpu")) as memory:
        block = mmap.mmap(-1, 64 * 2**20)  # 64 MiB of fresh pages, whatever allocator the process runs
        np.frombuffer(block, np.uint8)[:] = 1  # written, so resident
    block.close()
    assert memory.mb == pytest.approx(64, abs=8)


def test_motion_metadata_holds_report_and_scene(tiny_model):
    result = generate(REACHABLE, model=tiny_model, config=FAST)
    assert result.motion.metadata["report"] == result.report
    assert result.motion.metadata["scene"] == []
    assert result.motion.joints.shape == (40, 22, 3)


@pytest.fixture(scope="module")
def infeasible(tiny_model):
    """INFEASIBLE solved once with FAST: it runs every iteration, so the tests below share it."""
    return generate(INFEASIBLE, model=tiny_model, config=FAST)


def test_infeasible_program_names_both_conflicting_constraints(infeasible):
    report = infeasible.report
    assert report["satisfied"] is False
    assert set(report["violated"]) <= {"high", "low"} and report["violated"]
    assert {name for pair in report["conflicts"] for name in pair} == {"high", "low"}
    head_margins = {row["name"]: row["margin"] for row in report["constraints"]}
    # head.y - 3 and 1 - head.y cannot both be >= 0: their sum is -2 m whatever the motion.
    assert head_margins["high"] + head_margins["low"] == pytest.approx(-2.0, abs=1e-5)


def test_same_seed_gives_identical_joints_on_cpu(tiny_model, infeasible):
    first = infeasible.motion.joints
    second = generate(INFEASIBLE, model=tiny_model, config=FAST).motion.joints
    assert np.array_equal(first, second)
    other = generate(INFEASIBLE, model=tiny_model, config=replace(FAST, seed=7)).motion.joints
    assert not np.array_equal(first, other)


def test_gradient_reaches_z_through_the_sampler_and_the_rigid_projection(tiny_model):
    """Directional finite difference of the head's height (rigid body) against autograd."""
    z = tiny_model.latents([3], 24).requires_grad_(True)

    def height(noise):
        return decode_joints(tiny_model, noise, "a person walks", 4, False, True)[1][:, 12, 15, 1].sum()

    (grad,) = torch.autograd.grad(height(z), z)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    direction = grad / grad.norm()
    eps = 1e-2
    with torch.no_grad():
        numeric = (height(z + eps * direction) - height(z - eps * direction)) / (2 * eps)
    assert float(numeric) == pytest.approx(float(grad.norm()), rel=0.05)


def test_checkpointed_decode_gives_the_same_gradient(tiny_model):
    z = tiny_model.latents([5], 24).requires_grad_(True)
    plain = torch.autograd.grad(decode_joints(tiny_model, z, "walk", 3, False, True)[1].sum(), z)[0]
    saved = torch.autograd.grad(decode_joints(tiny_model, z, "walk", 3, True, True)[1].sum(), z)[0]
    assert torch.allclose(plain, saved, atol=1e-5)


def test_naturalness_penalty_counts_jerks_above_the_limit_and_depth_below_the_floor():
    frames, fps = 10, 20
    t = torch.arange(frames, dtype=torch.float64) / fps
    joints = torch.ones(2, frames, 22, 3, dtype=torch.float64)
    assert naturalness.penalty(joints, fps).tolist() == [0.0, 0.0]
    joints[0, :, 7, 0] = 0.5 * 80.0 * t**2  # one joint at a constant 80 m/s^2: (80 - 50) / 100 per frame
    joints[1, :, 3, 1] = -0.03  # one joint 3 cm under the floor at every frame
    assert naturalness.penalty(joints, fps).tolist() == pytest.approx([0.3 * frames, 0.03 * frames], rel=1e-9)


def test_rigid_decode_keeps_bone_lengths_the_ground_path_and_the_floor_contact(tiny_model):
    z = tiny_model.latents([0, 1], 24)
    with torch.no_grad():
        _, free = decode_joints(tiny_model, z, "walk", 3, False, False)
        _, rigid = decode_joints(tiny_model, z, "walk", 3, False, True)
    drift = measure(free)["bone_length_drift"], measure(rigid)["bone_length_drift"]
    assert (drift[0] > 0.01).all() and (drift[1] < 1e-5).all()
    rest = torch.as_tensor(BONE_LENGTHS[1:], dtype=rigid.dtype)
    lengths = (rigid[..., 1:, :] - rigid[..., list(PARENTS[1:]), :]).norm(dim=-1)
    assert (lengths - rest).abs().max() < 1e-5
    assert torch.equal(rigid[..., 0, [0, 2]], free[..., 0, [0, 2]])  # the pelvis's ground path
    assert torch.allclose(rigid[..., 1].amin(-1), free[..., 1].amin(-1), atol=1e-6)  # lowest joint per frame


def test_relaxed_goal_is_reached_by_moving_the_motion(tiny_model):
    result = generate(RELAXED, model=tiny_model, config=FAST)
    report = result.report
    assert report["satisfied"] is True
    shift = report["placement"]["xz_m"]
    assert math.hypot(*shift) > 1.0  # the tiny model barely walks: the placement did the work
    end = result.motion.joints[-1, 0]
    assert math.hypot(end[0] - 1.5, end[2] + 0.5) <= 0.05


def test_windows_beyond_the_memory_limit_are_refused_with_the_limit(tiny_model):
    source = 'motion "a person walks" for 300 s\nat end: pelvis.y > 0\n'
    with pytest.raises(InputError, match="frames to decode per iteration, over the limit of 12544"):
        generate(source, model=tiny_model, config=FAST)


def test_nonfinite_margin_names_the_constraint():
    program = load_program(INFEASIBLE)
    margins = torch.tensor([[0.1, float("nan")], [0.2, 0.3]])
    message = nonfinite_message(program, margins, torch.zeros(2), 12)
    assert "'low'" in message and "iteration 12" in message
    assert nonfinite_message(program, torch.zeros(2, 2), torch.zeros(2), 0) is None
    assert "loss" in nonfinite_message(program, torch.zeros(2, 2), torch.tensor([0.0, float("inf")]), 3)


def test_reference_recipe_runs_fixed_iterations_on_one_seed(tiny_model):
    config = OptimizeConfig(method="progmogen", progmogen_steps=10, progmogen_iterations=3)
    recipe = reference_recipe(config)
    assert (recipe.seeds, recipe.normalize, recipe.early_stop, recipe.noise_weight) == ((0,), False, False, 0.0)
    assert learning_rates(recipe, 3) == pytest.approx([config.progmogen_lr] * 3)
    solution = optimize_latent(load_program(REACHABLE), tiny_model, recipe)
    assert solution.iterations == 3 and solution.best.z.shape[0] == 1
    report = generate(REACHABLE, model=tiny_model, config=config).report
    assert report["method"] == "progmogen" and report["iterations"] == 3 and len(report["seeds"]) == 1


def test_fast_recipe_stops_at_the_first_satisfying_iteration(tiny_model):
    solution = optimize_latent(load_program(REACHABLE), tiny_model, fast_recipe(FAST, tiny_model, (0, 1, 2, 3)))
    satisfied = solution.history.satisfied
    assert int(satisfied[-1]) >= 1 and int(satisfied[:-1].sum()) == 0
    assert solution.iterations == len(satisfied) - 1


def test_learning_rate_schedule_pinned(tiny_model):
    recipe = fast_recipe(OptimizeConfig(lr=0.1, lr_final=0.01, warmup=5, iterations=105, steps=2), tiny_model, (0,))
    rates = learning_rates(recipe, 106)
    assert rates[0] == pytest.approx(0.02)
    assert rates[4] == pytest.approx(0.1)
    assert rates[55] == pytest.approx(0.055)
    assert rates[105] == pytest.approx(0.01)


def test_noise_penalty_closed_form():
    zeros = torch.zeros(2, 16, 3)
    assert noise_penalty(zeros).tolist() == [1.0, 1.0]  # (mean z^2 - 1)^2 = 1, no correlation
    ones = torch.ones(1, 8, 1)
    # norm term 0; lag-1 autocorrelation 1 at scale 8, 2 at scale 4 (pairs sum to 2/sqrt2 each)
    assert float(noise_penalty(ones)) == pytest.approx(1.0 + 4.0)
    white = torch.randn(1, 120, 67, generator=torch.Generator().manual_seed(0))
    smooth = (white + white.roll(1, dims=1)) / math.sqrt(2.0)  # same variance, lag-1 correlation 0.5
    # white noise: each level's squared lag is about 1 / (T_l * 67), under 0.01 in all; noise
    # with lag-1 correlation 0.5 pays 0.25 at the finest level alone.
    assert float(noise_penalty(white)) < 0.01
    assert float(noise_penalty(smooth)) > 0.2


def test_normalize_per_seed_gives_unit_rms():
    grad = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert torch.allclose(normalize_per_seed(grad), torch.tensor([[3.0, 4.0], [0.0, 0.0]]) / math.sqrt(12.5))


def test_violations_and_best_seed_order():
    margins = torch.tensor([[-0.5, 1.0], [-0.1, -0.1], [0.2, 0.3], [-0.2, 0.5]])
    hard = torch.tensor([True, True])
    count, total = violations(margins, hard)
    assert count.tolist() == [1, 2, 0, 1]
    assert torch.allclose(total, torch.tensor([0.5, 0.2, 0.0, 0.2]))
    assert choose_best(count, total, torch.tensor([0.0, 0.0, 9.0, 0.0])) == 2
    assert choose_best(count[[0, 3]], total[[0, 3]], torch.zeros(2)) == 1
    assert choose_best(torch.tensor([1, 1]), torch.tensor([0.2, 0.2]), torch.tensor([0.5, 0.1])) == 1


def test_polish_reduces_the_residual_violation_and_is_accepted(tiny_model):
    from motionprog.optimize.polish import polish

    program = load_program('motion "a person walks" for 40 frames\nband: at frame 10: pelvis.y in [1.05, 1.06]\n')
    solution = optimize_latent(program, tiny_model, fast_recipe(replace(FAST, iterations=1), tiny_model, (0,)))
    before = float(solution.best.margins[0, 0])
    assert before < 0
    outcome = polish(program, tiny_model, solution.best[0], replace(FAST, polish_iterations=100))
    polished = outcome.seed
    assert outcome.accepted and 0 < outcome.iterations <= 100
    assert float(polished.margins[0, 0]) >= 0  # the residual violation is gone
    body = Decoder(tiny_model, program.text, 4, None, True)
    assert float(polished.margins[0, 0]) == pytest.approx(
        float(program.margins(body.joints(polished.features))[0, 0]), abs=1e-5)
    # The iterate returned obeys the acceptance rule: no metric beyond 120 % of before + slack.
    start, end = measure(solution.best.joints), measure(polished.joints)
    assert all(float(end[name]) <= 1.2 * float(start[name]) + METRIC_SLACK[name] for name in start)


def test_polish_guard_is_zero_inside_the_allowance_and_grows_past_it(tiny_model):
    from motionprog.optimize.polish import GUARD_FRACTION

    joints = decode_joints(tiny_model, tiny_model.latents([0], 24), "walk", 3, False, True)[1]
    values = measure(joints)
    roomy = {name: values[name] / GUARD_FRACTION + 1.0 for name in values}
    assert float(naturalness.guard(joints, roomy, GUARD_FRACTION)[0]) == 0.0
    # max acceleration 20 m/s^2 past the guard's start costs 20 / 100 = 0.2 (metres of violation).
    tight = dict(roomy, max_acceleration=(values["max_acceleration"] - 20.0) / GUARD_FRACTION)
    assert float(naturalness.guard(joints, tight, GUARD_FRACTION)[0]) == pytest.approx(0.2, rel=1e-4)


def band_met_only_by(model, seed, frames=40):
    """A program whose pelvis band at frame 10 the unoptimised sample of ``seed`` meets (1 mm wide)."""
    with torch.no_grad():
        joints = decode_joints(model, model.latents([seed], frames), "a person walks", 4, False, True)[1]
    height = float(joints[0, 10, 0, 1])
    return (f'motion "a person walks" for {frames} frames, seeds 2\n'
            f"band: at frame 10: pelvis.y in [{height - 0.0005:.6f}, {height + 0.0005:.6f}]\n")


def test_a_program_some_candidate_already_satisfies_takes_zero_iterations(tiny_model):
    source = band_met_only_by(tiny_model, 21)
    report = generate(source, model=tiny_model, config=replace(FAST, seeds=2, candidates=32)).report
    assert report["satisfied"] and report["iterations"] == 0
    assert report["best_seed"] == 21  # seed 21 is the 22nd candidate: only scoring could find it
    unscored = generate(source, model=tiny_model, config=replace(FAST, seeds=2, candidates=0)).report
    assert unscored["iterations"] > 0 and [s["seed"] for s in unscored["seeds"]] == [0, 1]


def test_iterate_indexing_where_and_put():
    def iterate(value, batch=3):
        return Iterate(*(torch.full(shape, float(value)) for shape in
                         [(batch, 4, 2), (batch,), (batch, 2), (batch, 4, 2), (batch, 4, 22, 3), (batch, 1), (batch,), (batch,)]))

    ones, twos = iterate(1), iterate(2)
    mixed = ones.where(torch.tensor([True, False, True]), twos)
    assert mixed.joints[:, 0, 0, 0].tolist() == [1.0, 2.0, 1.0] and mixed.loss.tolist() == [1.0, 2.0, 1.0]
    assert len(ones[1]) == 1 and ones[[0, 2]].z.shape == (2, 4, 2)
    put = ones.put(1, iterate(5, batch=1))
    assert put.margins[:, 0].tolist() == [1.0, 5.0, 1.0] and ones.margins[1, 0] == 1.0


def test_an_objective_that_stops_improving_ends_the_search(tiny_model):
    source = REACHABLE + "maximize max(pelvis.y) weight 0.0001\n"  # gains far below 1e-3 per 5 iterations
    stalls = generate(source, model=tiny_model, config=replace(FAST, patience=5)).report
    assert stalls["satisfied"] and stalls["iterations"] < FAST.iterations
    history = stalls["history"]["satisfied"]
    assert history[-1] > 0 and history[-6] > 0  # satisfied 5 iterations ago and now, with too little gain
    runs_on = generate(source, model=tiny_model, config=replace(FAST, patience=0)).report
    assert runs_on["iterations"] == FAST.iterations


def test_stalled_needs_patience_evaluations_of_too_little_gain():
    inf = float("inf")
    assert not stalled([inf, inf, inf], 1)  # nobody satisfies: never stalled
    assert not stalled([inf, 1.0, 0.5], 1)  # gained 0.5 in one evaluation
    assert stalled([inf, 1.0, 0.9995], 1)
    assert not stalled([1.0, 0.9995], 2)  # not enough evaluations yet
    assert not stalled([1.0, 0.9995, 0.999], 0)  # patience 0: never


def test_result_carries_rig_rotations_and_the_feet_stage(tiny_model):
    from motionprog.body.kinematics import rig_joints

    result = generate(REACHABLE, model=tiny_model, config=FAST)
    rotations = torch.as_tensor(result.motion.rotations, dtype=torch.float64)
    joints = torch.as_tensor(result.motion.joints, dtype=torch.float64)
    assert (rig_joints(rotations, joints[:, 0]) - joints).norm(dim=-1).max() < 1e-3  # exports need no IK
    feet = result.report["feet"]
    assert feet["applied"] and feet["foot_skating_after"] <= feet["foot_skating_before"] + METRIC_SLACK["foot_skating_ratio"]
    assert result.report["satisfied"]  # cleaning never breaks a hard constraint that held
    off = generate(REACHABLE, model=tiny_model, config=replace(FAST, clean_feet=False)).report["feet"]
    assert off == {"applied": False, "accepted": False}


def test_relax_yaw_frees_only_a_turn_about_the_pivot(tiny_model):
    source = """motion "a person walks" for 40 frames, seeds 2
relax yaw about (0, 1)
reach: at end: pelvis.x > 0.3 m
"""
    report = generate(source, model=tiny_model, config=FAST).report
    assert report["placement"]["xz_m"] == [0.0, 0.0]  # the shift stays fixed
    assert report["satisfied"] and report["placement"]["yaw_rad"] != 0.0


def test_relax_xz_frees_only_a_shift(tiny_model):
    source = RELAXED.replace("relax yaw, xz", "relax xz")
    report = generate(source, model=tiny_model, config=FAST).report
    assert report["satisfied"] and report["placement"]["yaw_rad"] == 0.0


def test_a_goal_with_until_stops_once_met_and_reports_it_met(tiny_model):
    source = REACHABLE + "lift: maximize max(pelvis.y) until 0.5 m\n"  # the pelvis is about 0.93 m up
    report = generate(source, model=tiny_model, config=replace(FAST, patience=0)).report
    assert report["satisfied"] and report["iterations"] < FAST.iterations
    lift = next(row for row in report["constraints"] if row["name"] == "lift")
    assert lift["margin"] >= 0.5 and lift["satisfied"] is True


THREE_BANDS = """motion "a person walks" for 40 frames, seeds 4
a: at frame 10: pelvis.y in [1.0, 1.01]
b: at frame 30: pelvis.y in [0.85, 0.86]
c: at frame 20: left_wrist.x in [0.5, 0.51]
"""
"""Three 1 cm bands the tiny model meets only after a few iterations from its best seed."""


def test_a_start_noise_warm_starts_a_small_edit_in_fewer_iterations(tiny_model):
    first = generate(THREE_BANDS, model=tiny_model, config=FAST)
    assert first.satisfied and first.noise.shape == tiny_model.latents([0], 40).shape
    edited = THREE_BANDS.replace("[0.85, 0.86]", "[0.855, 0.865]")
    cold = generate(edited, model=tiny_model, config=FAST)
    warm = generate(edited, model=tiny_model, config=FAST, start_noise=first.noise)
    assert warm.satisfied and [s["seed"] for s in warm.report["seeds"]] == [0]
    assert warm.report["iterations"] < cold.report["iterations"]
    with pytest.raises(InputError, match=r"the start noise has shape \[1, 40"):
        generate(THREE_BANDS.replace("40 frames", "48 frames"), model=tiny_model, config=FAST, start_noise=first.noise)
