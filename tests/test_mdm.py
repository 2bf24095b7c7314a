"""The MDM denoiser reproduces the published code's outputs; its files load as released; CLIP path."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from conftest import shared_path
from motionprog.errors import InputError
from motionprog.models import load_model
from motionprog.models.clip_text import load_clip_text, mdm_tokens
from motionprog.models.mdm import MDMConfig, MDMDenoiser, guided_x0
from motionprog.sampling import cosine_schedule, ddim_sample, respace


def to_frames_first(mdm_layout: np.ndarray) -> torch.Tensor:
    """MDM's [B, 263, 1, T] -> our [B, T, 263]."""
    return torch.from_numpy(mdm_layout)[:, :, 0].transpose(1, 2)


@pytest.fixture(scope="module")
def reference():
    with np.load(shared_path("fixtures/mdm/reference_outputs.npz")) as data:
        return dict(data)


@pytest.fixture(scope="module")
def network(mdm_reference_state) -> MDMDenoiser:
    net = MDMDenoiser(MDMConfig())
    net.load_state_dict(mdm_reference_state, strict=True)
    return net.eval()


def test_state_dict_has_exactly_the_public_keys_and_shapes():
    shapes = json.loads(shared_path("fixtures/mdm/humanml_trans_enc_512.state_dict_shapes.json").read_text())
    state = MDMDenoiser(MDMConfig()).state_dict()
    assert list(state) == list(shapes)
    assert {k: list(v.shape) for k, v in state.items()} == shapes
    assert sum(v.numel() for k, v in state.items() if not k.endswith(".pe")) == pytest.approx(17.9e6, rel=0.01)


def test_forward_reproduces_reference(network, reference):
    with torch.no_grad():
        out = guided_x0(network, to_frames_first(reference["forward_x"]), torch.from_numpy(reference["forward_t"]),
                        None, 2.5)
    torch.testing.assert_close(out, to_frames_first(reference["forward_out"]), rtol=0, atol=1e-4)


def test_ddim_sampling_reproduces_reference(network, reference):
    schedule = respace(cosine_schedule(), int(reference["ddim_steps"]))
    with torch.no_grad():
        out = ddim_sample(lambda x, t, cond: guided_x0(network, x, t, cond, 1.0),
                          to_frames_first(reference["ddim_noise"]), schedule, None)
    torch.testing.assert_close(out, to_frames_first(reference["ddim_sample"]), rtol=0, atol=1e-4)


def test_guidance_is_one_batched_forward_of_both_passes(network):
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(2, 6, 263, generator=generator)
    t = torch.tensor([500, 20])
    text = torch.randn(2, 512, generator=generator)
    with torch.no_grad():
        cond = network(x, t, text)
        uncond = network(x, t, torch.zeros_like(text))
        guided = guided_x0(network, x, t, text, 2.5)
    torch.testing.assert_close(guided, uncond + 2.5 * (cond - uncond), rtol=0, atol=1e-4)
    assert (cond - uncond).abs().max() > 1e-2  # the text feature matters


def test_mdm_directory_generates_joints_end_to_end(mdm_dir):
    model = load_model(f"mdm:{mdm_dir}", text_encoder="none", device="cpu")
    assert (model.name, model.max_frames, model.fps) == ("mdm", 196, 20)
    z = model.latents([0], 40)
    assert z.shape == (1, 40, 263)
    with torch.no_grad():
        joints = model.to_joints(model.decode(z, "a person walks", steps=2))
    assert joints.shape == (1, 40, 22, 3)
    assert torch.isfinite(joints).all()


def test_stats_directory_is_used_when_the_model_directory_has_none(mdm_dir, tmp_path, humanml3d_dir):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("model000475000.pt", "args.json"):
        shutil.copy(mdm_dir / name, bare / name)
    with pytest.raises(InputError, match="Mean.npy / Std.npy not found.*--stats"):
        load_model(f"mdm:{bare}", text_encoder="none", device="cpu")
    model = load_model(f"mdm:{bare}", stats=humanml3d_dir, text_encoder="none", device="cpu")
    expected = torch.from_numpy(np.load(humanml3d_dir / "Mean.npy"))
    torch.testing.assert_close(model.normalizer.mean, expected)


@pytest.mark.parametrize(("missing", "message"), [
    ("args.json", r"args.json: no such file; it comes with the public MDM release"),
    ("model000475000.pt", r"no model\*\.pt checkpoint found"),
])
def test_missing_files_are_named(mdm_dir, tmp_path, missing, message):
    partial = tmp_path / "partial"
    shutil.copytree(mdm_dir, partial)
    (partial / missing).unlink()
    with pytest.raises(InputError, match=message):
        load_model(f"mdm:{partial}", text_encoder="none")


def test_mismatched_checkpoint_is_refused(mdm_dir, tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(mdm_dir, wrong)
    args = json.loads((wrong / "args.json").read_text())
    (wrong / "args.json").write_text(json.dumps({**args, "layers": 4}))
    with pytest.raises(InputError, match="does not match the MDM architecture"):
        load_model(f"mdm:{wrong}", text_encoder="none")


def test_text_encoder_is_required_and_specs_are_checked(mdm_dir):
    with pytest.raises(InputError, match="MDM needs a text encoder"):
        load_model(f"mdm:{mdm_dir}")
    with pytest.raises(InputError, match="unknown text encoder 'bert'"):
        load_model(f"mdm:{mdm_dir}", text_encoder="bert")
    with pytest.raises(InputError, match="unknown model 'mdn:x'"):
        load_model("mdn:x")
    with pytest.raises(InputError, match="config.json missing"):
        load_model(f"mdm:{mdm_dir}", text_encoder=f"clip:{mdm_dir}")


WORDS = ("a", "person", "walks", "forward", "jumps", "and", "waves")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A random CLIP text tower (1 layer, width 32, projection 512) with a word-level vocabulary, saved
    as a Hugging Face directory; no download."""
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    directory = tmp_path_factory.mktemp("clip")
    merges = [(w[:i], w[i] if i < len(w) - 1 else w[i] + "</w>") for w in WORDS for i in range(1, len(w))]
    pieces = [a + b for a, b in merges] + [c for w in WORDS for c in w[:-1]] + [w[-1] + "</w>" for w in WORDS]
    tokens = ["!", "<unk>", "<|startoftext|>", "<|endoftext|>", *(f"{w}</w>" for w in WORDS)]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(tokens + pieces))}
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), unk_token="<unk>")
    tokenizer.save_pretrained(directory)
    config = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=77, projection_dim=512,
                            bos_token_id=2, eos_token_id=3, pad_token_id=1)
    torch.manual_seed(0)
    CLIPTextModelWithProjection(config).save_pretrained(directory)
    return directory


def test_clip_tokens_follow_mdm(tiny_clip):
    encoder = load_clip_text(tiny_clip)
    long_text = " ".join(["person"] * 30)
    tokens = mdm_tokens(encoder.tokenizer, ["a person walks", long_text])
    assert tokens.shape == (2, 77) and tokens.dtype == torch.int64
    assert tokens[0, :5].tolist() == [2, 4, 5, 6, 3] and not tokens[0, 5:].any()
    assert tokens[1, :22].tolist() == [2] + [5] * 20 + [3] and not tokens[1, 22:].any()


def test_clip_features_are_the_projected_end_token(tiny_clip):
    encoder = load_clip_text(tiny_clip)
    features = encoder(["a person walks", "a person jumps", " ".join(["waves"] * 20 + ["jumps"])])
    assert features.shape == (3, 512) and features.dtype == torch.float32
    tokens = mdm_tokens(encoder.tokenizer, ["a person walks"])
    with torch.no_grad():
        hidden = encoder.model.text_model(input_ids=tokens).last_hidden_state[0, 4]
        expected = encoder.model.text_projection(hidden)
    torch.testing.assert_close(features[0], expected)
    assert (features[0] - features[1]).abs().max() > 1e-3
    truncated = encoder([" ".join(["waves"] * 20)])  # the 21st word is cut, as in MDM
    torch.testing.assert_close(features[2], truncated[0])


def test_mdm_with_clip_text_uses_guidance(mdm_dir, tiny_clip):
    model = load_model(f"mdm:{mdm_dir}", text_encoder=f"clip:{tiny_clip}", device="cpu")
    z = model.latents([1], 12)
    with torch.no_grad():
        guided = model.decode(z, "a person walks", steps=2)
        plain = model.decode(z, "a person walks", steps=2, guidance=1.0)
        other = model.decode(z, "a person jumps", steps=2)
    assert guided.shape == (1, 12, 263)
    assert (guided - plain).abs().max() > 1e-3
    assert (guided - other).abs().max() > 1e-3


def test_sample_command_writes_a_motion_from_an_mdm_directory(mdm_dir, tmp_path):
    import typer
    from typer.testing import CliRunner

    from motionprog.cli import sample
    from motionprog.motion import load_npz

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in motionprog's app with all its commands
    sample.register(app)
    out = tmp_path / "walk.npz"
    result = CliRunner().invoke(app, ["sample", "a person walks", "-o", str(out), "--frames", "24", "--steps", "2",
                                      "--seed", "3", "--model", f"mdm:{mdm_dir}", "--text-encoder", "none",
                                      "--device", "cpu"])
    assert result.exit_code == 0, result.output
    motion = load_npz(out)
    assert motion.joints.shape == (24, 22, 3) and motion.features.shape == (24, 263)
    assert motion.text == "a person walks" and motion.metadata["seed"] == 3
    model = load_model(f"mdm:{mdm_dir}", text_encoder="none", device="cpu")
    with torch.no_grad():
        expected = model.normalizer.denormalize(model.decode(model.latents([3], 24), "a person walks", 2))
    np.testing.assert_allclose(motion.features, expected[0].numpy(), rtol=0, atol=1e-5)  # de-normalised
