"""Hostile files for every reader: mutated and generated BVH, npz, npy, MDM results, safetensors
weights, MDM args.json and meshes. A reader answers with its value or an InputError (one line,
naming the file); nothing else may escape (no ValueError, RecursionError, MemoryError,
zipfile or pickle error...), and the size limits hold before anything large is allocated.
Bounded by count: each property runs a fixed number of derandomised examples."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motionprog.errors import InputError
from motionprog.io.bvh import format_bvh, read_bvh
from motionprog.io.formats import read_motions
from motionprog.motion import Motion, load_npz, save_npz
from motionprog.render.viewer import viewer_data

settings.register_profile("io-fuzz", deadline=None, derandomize=True, database=None, max_examples=150,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FUZZ = settings.get_profile("io-fuzz")

HOSTILE_TOKENS = ("nan", "inf", "-inf", "1e999", "-1", "0", "999", "1e-320", "99999999999999999999", "{", "}",
                  "JOINT", "End Site", "CHANNELS", "CHANNELS nan", "ROOT", "MOTION", "Frames:", "Frame Time:",
                  "OFFSET", "Xrotation", "\x00", "é", "²")


def small_motion(frames: int = 4) -> Motion:
    t = np.linspace(0, 1, frames)[:, None, None]
    rng = np.random.default_rng(3)
    joints = rng.normal(scale=0.3, size=(1, 22, 3)) + np.array([0.0, 1.0, 0.0]) + t * np.array([0.0, 0.0, 1.0])
    return Motion(joints=joints.astype(np.float32), text="walk", metadata={"scene": [], "report": {}})


def assert_reads_or_input_error(read, path: Path):
    """``read(path)``'s value, or None after an InputError that names the file on one line."""
    try:
        return read(path)
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
        return None


BVH_TEXT = format_bvh(small_motion())
BVH_LINES = BVH_TEXT.splitlines()


@given(edits=st.lists(st.tuples(st.integers(0, len(BVH_LINES) - 1), st.integers(0, 8),
                                st.sampled_from(HOSTILE_TOKENS), st.sampled_from(["replace", "insert", "delete"])),
                      min_size=1, max_size=4))
@FUZZ
def test_mutated_bvh_reads_or_fails_in_one_line(tmp_path, edits):
    lines = [line.split() for line in BVH_LINES]
    for line, position, token, action in edits:
        tokens = lines[min(line, len(lines) - 1)]
        at = min(position, len(tokens))
        if action == "replace" and tokens:
            tokens[min(at, len(tokens) - 1)] = token
        elif action == "insert":
            tokens.insert(at, token)
        elif lines:
            del lines[min(line, len(lines) - 1)]
    path = tmp_path / "fuzz.bvh"
    path.write_text("\n".join(" ".join(t) for t in lines) + "\n")
    motion = assert_reads_or_input_error(read_bvh, path)
    assert motion is None or np.isfinite(motion.joints).all()


@given(frames=st.integers(1, 10**12), frame_time=st.sampled_from(["999", "0.0083333", "1e-9", "nan", "inf", "-1", "0"]),
       joints=st.integers(1, 3000), channels=st.sampled_from(["3", "nan", "1e3", "-3", "²", "3.0"]))
@FUZZ
def test_generated_bvh_headers_respect_the_limits(tmp_path, frames, frame_time, joints, channels):
    """Headers declaring huge frame counts, long frame times, odd channel counts and thousands of
    nested joints are refused from the header, before any frame is allocated."""
    opening = "".join(f"{'  ' * d}JOINT j{d}\n{'  ' * d}{{\n{'  ' * d}OFFSET 0 1 0\n" for d in range(1, joints))
    closing = "".join(f"{'  ' * d}}}\n" for d in reversed(range(1, joints)))
    text = (f"HIERARCHY\nROOT hips\n{{\nOFFSET 0 0 0\nCHANNELS {channels} Xposition Yposition Zposition\n"
            f"{opening}{closing}}}\nMOTION\nFrames: {frames}\nFrame Time: {frame_time}\n" + "0 0 0\n" * min(frames, 3))
    path = tmp_path / "header.bvh"
    path.write_text(text)
    assert assert_reads_or_input_error(read_bvh, path) is None


def _array(dtype: str, shape: tuple[int, ...], fill: float) -> np.ndarray:
    if dtype == "U":
        return np.full(shape, "<script>", dtype="U8")
    return np.full(shape, fill).astype(dtype)


ARRAYS = st.builds(_array, st.sampled_from(["float32", "float64", "int64", "bool", "complex64", "U", "uint8"]),
                   st.lists(st.integers(0, 30), max_size=4).map(tuple) | st.sampled_from([(3, 22, 3), (2, 263)]),
                   st.sampled_from([0.0, 1.0, np.nan, np.inf, -1e30, 20.0]))
JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
METADATA = st.one_of(JSON.map(json.dumps), st.builds(
    lambda scene, report: json.dumps({"scene": scene, "report": report}),
    st.lists(st.fixed_dictionaries({"kind": st.sampled_from(["box", "mesh", "sphere", "line", "x"])},
                                   optional={"path": st.sampled_from(["/etc/passwd", "/proc/self/environ"]),
                                             "center": JSON, "size": JSON, "radius": JSON, "name": st.text(max_size=9),
                                             "vertices": JSON, "faces": JSON}), max_size=3) | JSON,
    st.fixed_dictionaries({}, optional={"constraints": st.lists(JSON, max_size=3) | JSON, "metrics": JSON,
                                        "satisfied": JSON}) | JSON))


@given(arrays=st.dictionaries(st.sampled_from(["joints", "fps", "features", "other"]), ARRAYS, max_size=4),
       text=st.none() | st.text(max_size=30), metadata=st.none() | METADATA)
@FUZZ
def test_generated_npz_loads_or_fails_in_one_line_and_views_safely(tmp_path, arrays, text, metadata):
    extra = ({} if text is None else {"text": np.array(text)}) | ({} if metadata is None else {"metadata": np.array(metadata)})
    path = tmp_path / "gen.npz"
    np.savez(path, **{"joints": _array("float32", (2, 22, 3), 1.0)} | arrays | extra)
    motion = assert_reads_or_input_error(load_npz, path)
    if motion is not None:
        data, warnings = viewer_data([motion])
        assert all(isinstance(w, str) for w in warnings)
        assert not any("passwd" in str(o) for o in data["objects"])


NPZ_BYTES = io.BytesIO()
np.savez_compressed(NPZ_BYTES, joints=small_motion().joints, fps=np.float32(20), text=np.array("x"),
                    metadata=np.array("{}"))


@given(flips=st.lists(st.tuples(st.integers(0, len(NPZ_BYTES.getvalue()) - 1), st.integers(0, 255)), min_size=1,
                      max_size=8), cut=st.none() | st.integers(0, len(NPZ_BYTES.getvalue())))
@FUZZ
def test_corrupted_npz_bytes_fail_in_one_line(tmp_path, flips, cut):
    data = bytearray(NPZ_BYTES.getvalue())
    for offset, value in flips:
        data[offset] = value
    path = tmp_path / "bad.npz"
    path.write_bytes(bytes(data[:cut]))
    assert_reads_or_input_error(load_npz, path)


def test_an_inflating_npz_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("joints.npy", "w",
                                                                                   force_zip64=True) as member:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                      "shape": (10_000_000, 22, 3)})
        member.write(header.getvalue())
        for _ in range(64):
            member.write(bytes(1 << 20))  # 64 MiB of zeros: well under 1 MiB compressed
    assert path.stat().st_size < 1 << 20
    with pytest.raises(InputError, match=r"bomb.npz: joints of shape \[10000000, 22, 3\] holds 660000000 values"):
        load_npz(path)


@given(value=ARRAYS | JSON | st.dictionaries(st.sampled_from(["motion", "text", "lengths", "x"]), ARRAYS | JSON,
                                             max_size=4))
@FUZZ
def test_generated_npy_and_results_read_or_fail_in_one_line(tmp_path, value):
    path = tmp_path / "gen.npy"
    with open(path, "wb") as handle:
        np.save(handle, np.array(value, dtype=object) if not isinstance(value, np.ndarray) else value,
                allow_pickle=True)
    for reader in ("npy", "mdm-results", "humanml3d-joints", "humanml3d-vecs"):
        motions = assert_reads_or_input_error(lambda p: read_motions(p, reader), path)
        assert motions is None or all(np.isfinite(m.joints).all() for m in motions)


def test_a_results_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "results.npy"
    with open(path, "wb") as handle:
        np.save(handle, np.array({"motion": Evil()}, dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="refusing to load pathlib"):
        read_motions(path, "mdm-results")
    assert not marker.exists()


@pytest.fixture(scope="module")
def weights_bytes(tiny_weights) -> bytes:
    return tiny_weights.read_bytes()


@given(flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.none() | st.integers(0, 2000))
@FUZZ
def test_corrupted_safetensors_fail_in_one_line(tmp_path, weights_bytes, flips, cut):
    from motionprog.models.bundled import load_weights

    data = bytearray(weights_bytes)
    for offset, value in flips:
        data[offset] = value
    path = tmp_path / "bad.safetensors"
    path.write_bytes(bytes(data[:cut] if cut is not None else data))
    assert_reads_or_input_error(load_weights, path)


@given(config=JSON | st.fixed_dictionaries({"widths": st.lists(st.integers(-5, 10**9), max_size=3)},
                                          optional={"emb_dim": st.integers(-5, 10**9), "blocks": JSON}))
@FUZZ
def test_weights_with_hostile_configs_fail_in_one_line(tmp_path, tiny_model, config):
    from safetensors.torch import save_file

    from motionprog.models.bundled import load_weights

    path = tmp_path / "cfg.safetensors"
    tensors = {f"model.{k}": v.contiguous() for k, v in tiny_model.denoiser.state_dict().items()}
    save_file(tensors, str(path), metadata={"config": json.dumps(config)})
    assert assert_reads_or_input_error(load_weights, path) is None


@given(args=JSON | st.dictionaries(st.sampled_from(["latent_dim", "layers", "heads", "ff_size", "diffusion_steps",
                                                     "guidance_param", "arch", "dataset"]),
                                   JSON | st.integers(-10**12, 10**12), max_size=5))
@FUZZ
def test_mdm_args_json_is_read_or_refused_in_one_line(tmp_path, args):
    from motionprog.models.mdm import MDMConfig, read_args

    (tmp_path / "args.json").write_text(json.dumps(args))
    config = assert_reads_or_input_error(lambda path: read_args(path.parent), tmp_path / "args.json")
    assert config is None or (isinstance(config, MDMConfig) and 2 <= config.latent_dim <= 4096)


OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n"


@given(edits=st.lists(st.tuples(st.integers(0, len(OBJ)), st.sampled_from(["nan", "-9", "1e999", "f", "v", "\n", "#",
                                                                           "99999", "/", "\x00"])), max_size=5),
       suffix=st.sampled_from([".obj", ".stl", ".ply", ".glb", ".off"]))
@FUZZ
def test_mutated_mesh_files_are_drawn_or_warned_about(tmp_path, edits, suffix):
    from motionprog.geometry.mesh import Mesh

    text = OBJ
    for at, token in edits:
        text = text[:at] + token + text[at:]
    path = tmp_path / f"fuzz{suffix}"
    path.write_text(text)
    scene = [{"kind": "mesh", "path": str(path), "name": "<b>mesh</b>"}]
    data, warnings = viewer_data([small_motion()], scene=scene)
    assert len(data["objects"]) + len(warnings) >= 1
    assert assert_reads_or_input_error(lambda p: Mesh.load(p).bounds, path) is not False


def test_save_npz_round_trips_a_motion_after_all(tmp_path):
    motion = small_motion()
    save_npz(motion, tmp_path / "ok.npz")
    np.testing.assert_array_equal(load_npz(tmp_path / "ok.npz").joints, motion.joints)
