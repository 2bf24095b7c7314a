"""Shared test fixtures: the `../shared` reference material, skipped cleanly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

torch.set_num_threads(1)


def shared_path(relative: str) -> Path:
    """Path of a file under ../shared; skips the calling test when it is not there."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is not available")
    return path


@pytest.fixture
def humanml3d_dir() -> Path:
    """../shared/fixtures/humanml3d (sample 012314 and the dataset's Mean/Std)."""
    return shared_path("fixtures/humanml3d")
