"""Motions longer than the model's window and prompts that change along the motion (issue 16):
``then`` through parser, checker, formatter, explain and builder; the windows a timeline is
cut into; the cross-fade; and a 15 s program on the bundled model whose constraints at both
ends hold with seams as smooth as the rest of the motion."""

from __future__ import annotations

import pytest
import torch

import motionprog
from motionprog.errors import InputError
from motionprog.lang import builder as mb
from motionprog.lang.formatter import format_module
from motionprog.lang.ir import Part
from motionprog.lang.parser import parse
from motionprog.lang.program import check_text
from motionprog.optimize import OptimizeConfig, generate
from motionprog.optimize.decode import Decoder
from motionprog.optimize.windows import MAX_DECODED_FRAMES, OVERLAP, check_length, plan, seam_acceleration

THEN = 'motion "walks forward" for 6 s then "sits down" for 4 s, seeds 2\nat end: pelvis.y < 0.7 m\n'


def test_then_gives_each_part_its_prompt_and_stretch_of_the_timeline():
    program, diagnostics = check_text(THEN, "then.mprog")
    assert diagnostics == []
    assert program.frames == 200 and program.seeds == 2
    assert program.parts == (Part("walks forward", 0, 120), Part("sits down", 120, 80))
    compiled = motionprog.compile(THEN)
    assert compiled.text == "walks forward then sits down"
    assert [(p.start, p.frames) for p in compiled.parts] == [(0, 120), (120, 80)]


def test_a_frames_override_stretches_every_part_in_proportion():
    program, diagnostics = check_text(THEN, "then.mprog", frames=100)
    assert diagnostics == [] and program.frames == 100
    assert program.parts == (Part("walks forward", 0, 60), Part("sits down", 60, 40))


def test_a_program_without_then_has_one_part_over_the_whole_motion():
    compiled = motionprog.compile('motion "walks" for 3 s\nat end: pelvis.y > 0\n')
    assert compiled.parts == (Part("walks", 0, 60),) and compiled.text == "walks"


@pytest.mark.parametrize("source, message", [
    ('motion "walks" then "sits" for 4 s\n', "'then' needs the length of the part before it"),
    ('motion "walks" for 4 s then "sits" for 1 frames\n', "each part of the motion lasts at least 2 frames"),
    ('motion "walks" for 400 s then "sits" for 200 s\n', "the motion length must be 2 to 10000 frames (0.1 s to 500 s)"),
])
def test_bad_parts_are_diagnosed(source: str, message: str):
    program, diagnostics = check_text(source + "at end: pelvis.y > 0\n", "bad.mprog")
    assert program is None
    assert [(d.code, d.message) for d in diagnostics if d.level == "error"][0] == ("E210", message)


def test_then_formats_canonically_and_the_builder_writes_the_same_header():
    messy = 'motion   "walks forward"  for 6 s  then "sits down"   for 4 s ,seeds 2\nat end: pelvis.y < 0.7 m\n'
    assert format_module(parse(messy, "m.mprog")[0]) == THEN
    built = mb.ProgramBuilder("walks forward", length=mb.q(6, "s"), seeds=2, then=[("sits down", mb.q(4, "s"))])
    built.constraint(mb.at("end"), mb.name("pelvis").y < mb.q(0.7, "m"))
    assert built.source() == THEN


def test_explain_names_each_part_and_its_frames(tmp_path, cli):
    path = tmp_path / "then.mprog"
    path.write_text(THEN)
    status, output = cli("explain", path)
    assert status == 0, output
    assert '"walks forward" for 6 s (frames 0-119), then "sits down" for 4 s (frames 120-199), 200 frames' in output


def test_a_long_timeline_is_cut_into_model_windows_sharing_at_least_the_overlap():
    timeline = plan((Part("walks", 0, 600),), 600, 196)
    assert [(w.start, w.frames) for w in timeline.windows] == [(0, 196), (135, 196), (269, 196), (404, 196)]
    assert timeline.seams == ((135, 196), (269, 331), (404, 465))
    assert min(stop - first for first, stop in timeline.seams) >= OVERLAP
    cover = torch.zeros(600, dtype=torch.float64)
    for index, window in enumerate(timeline.windows):
        cover[window.start:window.stop] += timeline.weights(index)
    assert torch.allclose(cover, torch.ones(600, dtype=torch.float64))


def test_each_part_gets_windows_reaching_half_an_overlap_into_its_neighbours():
    timeline = plan((Part("walks", 0, 240), Part("turns", 240, 160), Part("sits", 400, 200)), 600, 196)
    assert [(w.start, w.frames, w.text) for w in timeline.windows] == [
        (0, 196, "walks"), (64, 196, "walks"),       # 0 .. 260: the part and 20 frames of the next
        (222, 196, "turns"),                         # 160 frames + 18 each side fit one window
        (380, 196, "sits"), (404, 196, "sits"),      # 380 .. 600
    ]
    assert plan((Part("a", 0, 60), Part("b", 60, 60)), 120, 196).windows[1].start == 40


def test_the_cross_fade_keeps_each_window_alone_where_no_other_covers_it(tiny_model):
    program = motionprog.compile('motion "walks" for 100 frames\nat end: pelvis.y > 0\n')
    decoder = Decoder.of(program, tiny_model, 4, None, True)
    first, second = decoder.timeline.windows
    assert (first.start, first.frames, second.start, second.frames) == (0, 64, 36, 64)
    with torch.no_grad():
        z = decoder.latents([0, 1], program.frames)
        features = decoder.features(z)
        alone = decoder.window_features(z[:, :first.stop], "walks")
        last = decoder.window_features(z[:, second.start:], "walks")
    assert features.shape == (2, 100, 67)
    assert torch.allclose(features[:, :second.start], alone[:, :second.start], atol=1e-6)
    assert torch.allclose(features[:, first.stop:], last[:, first.stop - second.start:], atol=1e-6)
    middle = features[:, second.start:first.stop]
    low = torch.minimum(alone[:, second.start:], last[:, :first.stop - second.start])
    high = torch.maximum(alone[:, second.start:], last[:, :first.stop - second.start])
    assert bool(((middle >= low - 1e-6) & (middle <= high + 1e-6)).all())


@pytest.mark.parametrize("instant, window", [("start", 0), ("end", 1)])
def test_a_constraint_moves_the_noise_of_the_window_that_decodes_its_frame(tiny_model, instant, window):
    program = motionprog.compile(f'motion "walks" for 100 frames\nat {instant}: pelvis.y > 2 m\n')
    decoder = Decoder.of(program, tiny_model, 4, None, True)
    z = decoder.latents([0], program.frames).requires_grad_(True)
    _, joints = decoder(z)
    (grad,) = torch.autograd.grad(program.loss(joints).sum(), [z])
    per_frame = grad.abs().sum(-1)[0]
    first, second = decoder.timeline.windows
    only_first, only_second = per_frame[:second.start], per_frame[first.stop:]
    own, other = (only_first, only_second) if window == 0 else (only_second, only_first)
    assert float(own.mean()) > 1e4 * float(other.max())  # the other window's own noise stays put


def test_windows_past_the_memory_limit_are_refused_in_one_line(bundled_model):
    program = motionprog.compile('motion "walks" for 500 s, seeds 2\nat end: pelvis.y > 0\n')
    with pytest.raises(InputError) as refused:
        check_length(program, bundled_model, 2)
    assert str(refused.value) == (
        "the program asks for 2 seed(s) of 10000 frames (500 s): 64 windows of model 'bundled' per seed, "
        f"25088 frames to decode per iteration, over the limit of {MAX_DECODED_FRAMES}; "
        "ask for fewer seeds or a shorter motion")
    check_length(program, bundled_model, 1)  # the longest program fits with one seed


def test_the_prompt_match_of_a_program_with_parts_is_its_least_known_part(bundled_model):
    from motionprog.models.vocabulary import model_prompt_match
    from motionprog.optimize.generate import prompt_match

    program = motionprog.compile('motion "a person walks forward" for 6 s then "a person juggles three '
                                 'flaming torches" for 4 s\nat end: pelvis.y > 0\n')
    match = prompt_match(bundled_model, program)
    assert match.text == "a person juggles three flaming torches" and not match.known
    assert match.similarity < model_prompt_match(bundled_model, "a person walks forward").similarity


LONG = """motion "a person walks forward" for 15 s
start_point: at 1 s: distance(pelvis.xz, (0, 0.8)) < 40 cm
end_point: at end: distance(pelvis.xz, (0, 13)) < 1 m
"""


@pytest.fixture(scope="module")
def long_walk(bundled_model):
    """The 15 s walk generated on the bundled model (two windows), one seed."""
    program = motionprog.compile(LONG)
    return program, generate(program, model=bundled_model, device="cpu", config=OptimizeConfig(seeds=1, candidates=8))


def test_constraints_at_the_start_and_the_end_of_a_long_motion_both_hold(long_walk):
    program, result = long_walk
    assert result.motion.joints.shape == (300, 22, 3)
    margins = {c["name"]: c["margin"] for c in result.report["constraints"]}
    assert result.satisfied and margins["start_point"] >= 0 and margins["end_point"] >= 0
    assert result.report["windows"] == [{"start": 0, "frames": 196, "text": "a person walks forward"},
                                        {"start": 104, "frames": 196, "text": "a person walks forward"}]
    assert result.report["prompt"]["similarity"] > 0.9  # "a person walks forward" is a training label
    pelvis = result.motion.joints[:, 0]
    assert abs(pelvis[20, 2] - 0.8) < 0.4 and abs(pelvis[-1, 2] - 13) < 1.0


def test_seams_are_no_rougher_than_the_rest_of_a_long_motion(long_walk, bundled_model):
    program, result = long_walk
    timeline = Decoder.of(program, bundled_model, 0, None, True).timeline
    assert len(timeline.windows) == 2
    seam, elsewhere = seam_acceleration(torch.as_tensor(result.motion.joints)[None], timeline, 20)
    assert float(seam) <= 1.5 * float(elsewhere)
