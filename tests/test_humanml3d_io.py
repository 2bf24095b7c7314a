"""HumanML3D feature / joint .npy files and MDM's results.npy, read safely."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from motionprog.errors import InputError
from motionprog.io import humanml3d
from motionprog.io.formats import read_motions, reader_for, writer_for
from tests.conftest import shared_path


def results_dict(frames: int = 30) -> dict:
    motion = np.random.default_rng(0).normal(size=(3, 22, 3, frames)).astype(np.float32)
    return {"motion": motion, "text": ["walk", "jump", "sit"], "lengths": np.array([frames, 12, 20]), "num_samples": 3}


def test_vecs_file_decodes_to_stored_joints() -> None:
    motion = humanml3d.read_vecs(shared_path("fixtures/humanml3d/012314_joint_vecs.npy"))
    stored = np.load(shared_path("fixtures/humanml3d/012314_joints.npy"))
    assert motion.features is not None and motion.features.shape == (170, 263)
    assert np.abs(motion.joints - stored).max() < 1e-5
    assert motion.fps == 20


def test_joints_file_round_trips_through_npy(tmp_path) -> None:
    motion = humanml3d.read_joints(shared_path("fixtures/humanml3d/012314_joints.npy"))
    humanml3d.write_joints(motion, tmp_path / "copy.npy")
    assert np.array_equal(np.load(tmp_path / "copy.npy"), motion.joints)
    assert motion.features is None


def test_results_file_gives_one_trimmed_motion_per_sample(tmp_path) -> None:
    results = results_dict()
    np.save(tmp_path / "results.npy", results)
    motions = humanml3d.read_results(tmp_path / "results.npy")
    assert [m.num_frames for m in motions] == [30, 12, 20]
    assert [m.text for m in motions] == ["walk", "jump", "sit"]
    assert np.array_equal(motions[1].joints, results["motion"][1].transpose(2, 0, 1)[:12])


def test_npy_kind_is_guessed_from_content(tmp_path) -> None:
    np.save(tmp_path / "results.npy", results_dict())
    np.save(tmp_path / "joints.npy", np.zeros((5, 22, 3), dtype=np.float32))
    np.save(tmp_path / "vecs.npy", np.zeros((5, 263), dtype=np.float32))
    assert len(read_motions(tmp_path / "results.npy")) == 3
    assert read_motions(tmp_path / "joints.npy")[0].features is None
    assert read_motions(tmp_path / "vecs.npy")[0].features.shape == (5, 263)


def test_results_pickle_cannot_run_code(tmp_path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    np.save(tmp_path / "evil.npy", np.array({"motion": Payload()}, dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match=r"evil.npy: cannot read .npy file \(refusing to load .*system\)"):
        humanml3d.read_results(tmp_path / "evil.npy")
    assert not marker.exists()


def test_results_written_with_old_pickle_protocols_load(tmp_path) -> None:
    array = np.array(results_dict(), dtype=object)
    with open(tmp_path / "results.npy", "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, np.lib.format.header_data_from_array_1_0(array))
        pickle.dump(array, handle, protocol=2)
    assert [m.num_frames for m in humanml3d.read_results(tmp_path / "results.npy")] == [30, 12, 20]


@pytest.mark.parametrize(
    ("array", "reader", "message"),
    [
        (np.zeros((5, 262), dtype=np.float32), humanml3d.read_vecs, r"expected HumanML3D features \[T, 263\], got shape \[5, 262\]"),
        (np.zeros((5, 21, 3), dtype=np.float32), humanml3d.read_joints, r"expected joints \[T, 22, 3\], got shape \[5, 21, 3\]"),
        (np.zeros((5, 7), dtype=np.float32), humanml3d.read_npy, r"cannot tell the .npy kind from shape \[5, 7\]"),
        ({"motion": np.zeros((2, 22, 4, 9))}, humanml3d.read_results, r"expected 'motion' of shape \[N, 22, 3, T\], got \[2, 22, 4, 9\]"),
        ({"motion": np.zeros((2, 22, 3, 9)), "lengths": [9, 10]}, humanml3d.read_results, r"'lengths' must hold 2 frame counts in \[1, 9\]"),
    ],
)
def test_wrong_shapes_name_file_and_shape(tmp_path, array, reader, message) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(InputError, match="bad.npy: " + message):
        reader(tmp_path / "bad.npy")


def test_truncated_files_name_the_file(tmp_path) -> None:
    np.save(tmp_path / "full.npy", results_dict())
    np.save(tmp_path / "vecs.npy", np.zeros((10, 263), dtype=np.float32))
    for name in ("full.npy", "vecs.npy"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / f"cut_{name}").write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError, match=f"cut_{name}: cannot read .npy file"):
            humanml3d.read_npy(tmp_path / f"cut_{name}")


def test_unknown_formats_and_extensions_are_input_errors(tmp_path) -> None:
    with pytest.raises(InputError, match=r"a.xyz: unknown input extension '.xyz'"):
        reader_for(tmp_path / "a.xyz")
    with pytest.raises(InputError, match=r"unknown input format 'fbx'"):
        reader_for(tmp_path / "a.npy", "fbx")
    with pytest.raises(InputError, match=r"b.txt: unknown output extension '.txt'"):
        writer_for(tmp_path / "b.txt")
    with pytest.raises(InputError, match=r"missing.npy: no such file"):
        read_motions(tmp_path / "missing.npy")
