"""The distilled one-step student: distillation on a tiny teacher (loss goes down, resumable,
float16 on disk), the student behind the model (shapes, determinism, a stored reference of
the shipped student) and the optimizer's choice of decoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionprog.errors import InputError
from motionprog.models.bundled import (
    STUDENT_REFERENCE_PROMPT, BundledModel, load_bundled, load_student, student_path_for,
)
from motionprog.models.distill import (
    DistillConfig, Pairs, distill, distillation_prompts, heldout_loss, student_timestep,
)
from motionprog.optimize import OptimizeConfig
from motionprog.optimize.decode import STUDENT, search_steps
from motionprog.optimize.recipes import fast_recipe

TINY = DistillConfig(pairs=48, pair_batch=8, lengths=(16, 24), heldout_chunks=1, steps=40, frames_per_batch=256,
                     lr=1e-3, warmup=5, ema_decay=0.5, checkpoint_every=20)
"""Six chunks of eight teacher samples (one held out), 40 student steps."""

REFERENCE = Path(__file__).parent / "assets" / "student_reference.npy"
"""Features [1, 40, 67] of the shipped student for seed 0 and ``STUDENT_REFERENCE_PROMPT``
(written by ``scripts/student_reference.py``)."""


@pytest.fixture(scope="module")
def distilled(tiny_model, tmp_path_factory):
    """A tiny teacher distilled for 40 steps: (output directory, EMA student)."""
    teacher = BundledModel(tiny_model.denoiser, tiny_model.mean, tiny_model.std, default_steps=4,
                           default_guidance=2.0, labels=("a person walks forward", "a person jumps"))
    out = tmp_path_factory.mktemp("distill")
    return teacher, out, distill(teacher, teacher.labels, out, TINY)


def test_distillation_brings_the_student_closer_to_the_teacher(distilled):
    teacher, out, _ = distilled
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in log] == [20, 40]
    pairs = Pairs.load(out / "pairs.pt")
    text = teacher.embed(pairs.prompts, len(pairs.prompts))
    untrained = heldout_loss(teacher.denoiser, teacher, pairs, text, TINY.held_chunks, student_timestep(teacher), TINY)
    first, last = untrained["total"], log[-1]["heldout"]["total"]
    assert last < 0.7 * first, (first, last)


def test_student_file_is_float16_and_loads_as_a_student(distilled):
    teacher, out, student = distilled
    from safetensors import safe_open

    with safe_open(str(out / "student.safetensors"), framework="pt") as handle:
        assert handle.get_tensor("model.out.weight").dtype == torch.float16
        assert handle.get_tensor("norm.mean").dtype == torch.float32
    loaded = load_student(out / "student.safetensors")
    assert (loaded.teacher_steps, loaded.guidance) == (4, 2.0)
    z = teacher.latents([3], 24)
    expected = student(z, torch.full((1,), loaded.timestep), teacher.embed("a person jumps", 1), torch.ones(1))
    model = BundledModel(teacher.denoiser, teacher.mean, teacher.std, student=loaded)
    assert torch.allclose(model.decode_distilled(z, "a person jumps"), expected, atol=2e-3)  # float16 weights


def test_a_teacher_file_is_not_a_student(tiny_weights):
    with pytest.raises(InputError, match="not a distilled student"):
        load_student(tiny_weights)


def test_distillation_resumes_where_it_stopped(distilled, tmp_path):
    teacher, _, straight = distilled
    distill(teacher, teacher.labels, tmp_path, TINY, stop_after=20)
    with pytest.raises(InputError, match="--resume"):
        distill(teacher, teacher.labels, tmp_path, TINY)
    resumed = distill(teacher, teacher.labels, tmp_path, TINY, resume=True)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_teacher_samples_are_deterministic_per_chunk(distilled):
    teacher, out, _ = distilled
    pairs = Pairs.load(out / "pairs.pt")
    assert len(pairs.z) == TINY.chunks == 6
    assert [z.shape[1] for z in pairs.z] == [16, 24, 16, 24, 16, 24]
    assert pairs.prompts == distillation_prompts(teacher.labels)
    with torch.no_grad():
        again = teacher.decode(pairs.z[2], [pairs.prompts[i] for i in pairs.prompt_index[2].tolist()])
    assert torch.allclose(again, pairs.target[2], atol=1e-6)


def test_a_model_with_a_student_is_searched_through_it(distilled, tiny_model):
    teacher, out, _ = distilled
    model = BundledModel(teacher.denoiser, teacher.mean, teacher.std, default_steps=4, default_guidance=2.0,
                         student=load_student(out / "student.safetensors"))
    assert search_steps(model, None, None) == STUDENT
    assert search_steps(model, 3, None) == 3  # --steps K asks for the teacher
    assert search_steps(model, None, 1.5) == 4  # another guidance than the student's: the teacher
    assert search_steps(tiny_model, None, None) == 4  # no student: the model's default steps
    assert fast_recipe(OptimizeConfig(), model, (0,)).steps == STUDENT


def test_shipped_student_decodes_in_one_step_deterministically():
    model = load_bundled("cpu")
    assert model.student is not None, f"{student_path_for(model_path())} is missing"
    z = model.latents([0, 1], 40)
    with torch.no_grad():
        first = model.decode_distilled(z, STUDENT_REFERENCE_PROMPT)
        second = model.decode_distilled(z, STUDENT_REFERENCE_PROMPT)
    assert first.shape == (2, 40, 67) and torch.equal(first, second)
    reference = torch.from_numpy(np.load(REFERENCE))
    assert torch.allclose(first[:1], reference, atol=1e-4)


def model_path() -> Path:
    from motionprog.models.bundled import WEIGHTS_PATH

    return WEIGHTS_PATH
