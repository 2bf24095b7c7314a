"""Write tests/assets/student_reference.npy: the shipped student's decode of seed 0's noise
(40 frames, ``STUDENT_REFERENCE_PROMPT``), which tests/test_distill.py compares against.
Run it again whenever motionprog/data/bundled-student.safetensors changes."""

from pathlib import Path

import numpy as np
import torch

from motionprog.models.bundled import STUDENT_REFERENCE_PROMPT, load_bundled

model = load_bundled("cpu")
with torch.no_grad():
    features = model.decode_distilled(model.latents([0], 40), STUDENT_REFERENCE_PROMPT)
target = Path(__file__).resolve().parents[1] / "tests" / "assets" / "student_reference.npy"
np.save(target, features.numpy().astype(np.float32))
print(f"wrote {target}")
