"""Checkpoint loading: expected shapes, the open_clip rename table, every published layout, and the error messages."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from eva_lens.checkpoint import (
    CheckpointError,
    detect_layout,
    eva_to_open_clip_name,
    expected_shapes,
    hub_to_eva_mapping,
    load_eva_state,
    open_clip_to_eva_name,
    param_specs,
    read_checkpoint,
    to_eva_names,
    validate_state,
)
from eva_lens.config import load_config
from eva_lens.random_checkpoint import (
    LAYOUTS,
    LOGIT_SCALE,
    make_random_checkpoint,
    random_state,
    random_tensor,
    save_state,
)
from eva_lens.safetensors_io import SafetensorsFile, save_file

DEMO = load_config("EVA-Lens-demo")
B16 = load_config("EVA02-CLIP-B-16")


def _count(shapes: dict[str, tuple[int, ...]], prefix: str = "") -> int:
    return sum(math.prod(s) for k, s in shapes.items() if k.startswith(prefix))


def _fp16_rounded(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What a file written in fp16 gives back."""
    return {k: v.astype(np.float16).astype(np.float32) for k, v in state.items()}


def _shape_only_state(config_name: str) -> dict[str, np.ndarray]:
    """Zero-stride arrays with the right shapes: validation tests for L/14 cost no memory."""
    return {k: np.broadcast_to(np.float32(0), s) for k, s in expected_shapes(config_name).items()}


def _assert_same(got: dict[str, torch.Tensor], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k].dtype == torch.float32 and tuple(got[k].shape) == v.shape, k
        assert np.array_equal(got[k].numpy(), v), k


# --- expected shapes (numbers from eva-clip-facts.md §2a) ---


@pytest.mark.parametrize(
    "arch, vision, text, total",
    [
        ("EVA02-CLIP-B-16", 86_263_040, 63_428_096, 149_691_137),
        ("EVA02-CLIP-L-14", 304_105_152, 123_650_304, 427_755_457),
        ("EVA02-CLIP-L-14-336", None, None, 428_083_137),
    ],
)
def test_parameter_counts_match_published(arch: str, vision: int | None, text: int | None, total: int) -> None:
    shapes = expected_shapes(arch)
    assert _count(shapes) == total  # logit_scale counts as 1
    if vision is not None:
        assert _count(shapes, "visual.") == vision and _count(shapes, "text.") == text


def test_b16_shapes_and_names_follow_the_official_file() -> None:
    s = expected_shapes(B16)
    assert s["visual.pos_embed"] == (1, 197, 768) and s["visual.patch_embed.proj.weight"] == (768, 3, 16, 16)
    assert s["visual.blocks.11.mlp.w1.weight"] == (2048, 768) and s["visual.blocks.0.mlp.w3.weight"] == (768, 2048)
    assert s["visual.blocks.0.attn.q_bias"] == (768,) and "visual.blocks.0.attn.k_bias" not in s
    assert s["visual.head.weight"] == (512, 768) and s["visual.head.bias"] == (512,)
    assert s["text.transformer.resblocks.11.attn.in_proj_weight"] == (1536, 512)
    assert s["text.text_projection"] == (512, 512) and s["logit_scale"] == ()
    assert not [k for k in s if "rope" in k]
    assert len(s) == 4 + 12 * 21 + 4 + 2 + 12 * 12 + 2 + 2  # 410 tensors: 21 per vision block, 12 per text block
    assert expected_shapes("EVA02-CLIP-L-14-336")["visual.pos_embed"] == (1, 577, 1024)


# --- rename table ---


@pytest.mark.parametrize("arch", ["EVA-Lens-demo", "EVA02-CLIP-B-16", "EVA02-CLIP-L-14"])
def test_rename_table_is_a_bijection_both_ways(arch: str) -> None:
    names = list(expected_shapes(arch))
    hub = [eva_to_open_clip_name(n) for n in names]
    assert len(set(hub)) == len(names)
    assert [open_clip_to_eva_name(h) for h in hub] == names
    assert all(h.startswith("visual.trunk.") for h in hub if h.startswith("visual"))
    # no EVA-only block names survive on the hub side
    eva_only = ("q_bias", "v_bias", "inner_attn_ln", "mlp.w1", "mlp.w2", "mlp.w3", "ffn_ln")
    assert not [h for h in hub if any(e in h for e in eva_only)]


def test_rename_table_matches_the_hub_layout() -> None:
    pairs = {
        "visual.blocks.3.attn.q_bias": "visual.trunk.blocks.3.attn.q_proj.bias",
        "visual.blocks.3.attn.v_bias": "visual.trunk.blocks.3.attn.v_proj.bias",
        "visual.blocks.3.attn.k_proj.weight": "visual.trunk.blocks.3.attn.k_proj.weight",
        "visual.blocks.3.attn.inner_attn_ln.weight": "visual.trunk.blocks.3.attn.norm.weight",
        "visual.blocks.3.mlp.w1.bias": "visual.trunk.blocks.3.mlp.fc1_g.bias",
        "visual.blocks.3.mlp.w2.weight": "visual.trunk.blocks.3.mlp.fc1_x.weight",
        "visual.blocks.3.mlp.ffn_ln.bias": "visual.trunk.blocks.3.mlp.norm.bias",
        "visual.blocks.3.mlp.w3.weight": "visual.trunk.blocks.3.mlp.fc2.weight",
        "visual.blocks.3.norm1.weight": "visual.trunk.blocks.3.norm1.weight",
        "visual.head.weight": "visual.trunk.head.weight",
        "visual.norm.bias": "visual.trunk.norm.bias",
        "visual.pos_embed": "visual.trunk.pos_embed",
        "text.transformer.resblocks.0.attn.in_proj_weight": "text.transformer.resblocks.0.attn.in_proj_weight",
        "logit_scale": "logit_scale",
    }
    for eva, hub in pairs.items():
        assert eva_to_open_clip_name(eva) == hub and open_clip_to_eva_name(hub) == eva


def test_hub_mapping_is_json_and_covers_the_written_hub_file(tmp_path: Path) -> None:
    rows = hub_to_eva_mapping(DEMO)
    assert json.loads(json.dumps(rows)) == rows
    assert [r["name"] for r in rows] == list(expected_shapes(DEMO))
    assert {r["op"] for r in rows} == {"rename", "no-op"}
    assert all((r["op"] == "no-op") == (r["sources"] == [r["name"]]) for r in rows)
    path = make_random_checkpoint("EVA-Lens-demo", "open_clip-safetensors", tmp_path)
    with SafetensorsFile(path) as f:
        assert sorted(src for r in rows for src in r["sources"]) == sorted(f.keys())
        assert all(list(f.info(r["sources"][0]).shape) == r["shape"] for r in rows)


# --- layouts ---


def test_detect_layout() -> None:
    eva = list(expected_shapes(DEMO))
    assert detect_layout(eva) == "eva"
    assert detect_layout([eva_to_open_clip_name(k) for k in eva]) == "open_clip"
    assert detect_layout(["cls_token", "pos_embed", "blocks.0.attn.q_proj.weight", "head.weight"]) == "timm_vision"
    with pytest.raises(CheckpointError, match="OpenAI/open_clip layout .* not EVA-CLIP"):
        detect_layout(["visual.class_embedding", "visual.transformer.resblocks.0.ln_1.weight", "text_projection"])
    with pytest.raises(CheckpointError, match="unrecognised checkpoint layout.*first keys: encoder.weight"):
        detect_layout(["encoder.weight"])


def test_to_eva_names_drops_rope_and_maps_timm_tower() -> None:
    state = _shape_only_state("EVA-Lens-demo")
    state["visual.rope.freqs_cos"] = np.zeros((64, 64), np.float32)
    state["visual.blocks.0.attn.rope.freqs_sin"] = np.zeros((64, 64), np.float32)
    assert set(to_eva_names(state)) == set(expected_shapes(DEMO))
    timm = {
        "cls_token": np.zeros(1),
        "blocks.0.attn.q_proj.bias": np.zeros(1),
        "head.weight": np.zeros(1),
        "blocks.1.mlp.fc2.weight": np.zeros(1),
        "rope.freqs_cos": np.zeros(1),
    }
    assert set(to_eva_names(timm)) == {
        "visual.cls_token",
        "visual.blocks.0.attn.q_bias",
        "visual.head.weight",
        "visual.blocks.1.mlp.w3.weight",
    }


@pytest.fixture(scope="module")
def demo_ref() -> dict[str, np.ndarray]:
    return _fp16_rounded(random_state(DEMO, seed=3))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_demo_round_trip_every_layout(tmp_path: Path, layout: str, demo_ref: dict[str, np.ndarray]) -> None:
    path = make_random_checkpoint("EVA-Lens-demo", layout, tmp_path, seed=3)
    assert (
        path.name
        == {
            "official-pt": "EVA-Lens-demo.pt",
            "open_clip-bin": "open_clip_pytorch_model.bin",
            "open_clip-safetensors": "open_clip_model.safetensors",
        }[layout]
    )
    raw = read_checkpoint(path)
    assert detect_layout(raw) == ("eva" if layout == "official-pt" else "open_clip")
    assert all(v.dtype == np.float32 for v in raw.values())
    _assert_same(load_eva_state(path, DEMO), demo_ref)


@pytest.mark.parametrize("wrap", ["model", "state_dict", "module"])
def test_wrapped_and_prefixed_official_files(tmp_path: Path, wrap: str, demo_ref: dict[str, np.ndarray]) -> None:
    path = make_random_checkpoint("EVA-Lens-demo", "official-pt", tmp_path / "w.pt", seed=3, wrap=wrap)
    _assert_same(load_eva_state(path, DEMO), demo_ref)
    # DataParallel prefix + RoPE buffers + bf16, as some re-saved files have
    state = {f"module.{k}": torch.from_numpy(v).bfloat16() for k, v in demo_ref.items()}
    state["module.visual.rope.freqs_cos"] = torch.zeros(64, 64)
    torch.save({"epoch": 7, "state_dict": state}, tmp_path / "p.pt")
    want = {k: torch.from_numpy(v).bfloat16().float().numpy() for k, v in demo_ref.items()}
    _assert_same(load_eva_state(tmp_path / "p.pt", DEMO), want)


def test_float32_safetensors_and_save_state(tmp_path: Path, demo_ref: dict[str, np.ndarray]) -> None:
    save_file({eva_to_open_clip_name(k): v for k, v in demo_ref.items()}, tmp_path / "f32.safetensors")
    _assert_same(load_eva_state(tmp_path / "f32.safetensors", DEMO), demo_ref)
    path = save_state(demo_ref, DEMO, "open_clip-bin", tmp_path)
    _assert_same(load_eva_state(path, DEMO), demo_ref)  # values are already fp16-exact


def test_loads_into_the_model_strictly(tmp_path: Path) -> None:
    clip = pytest.importorskip("eva_lens.clip", reason="model not available")
    model = clip.EvaClip(DEMO)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == expected_shapes(DEMO)
    path = make_random_checkpoint("EVA-Lens-demo", "open_clip-safetensors", tmp_path, seed=5)
    model.load_state_dict(load_eva_state(path, DEMO), strict=True)


@pytest.fixture(scope="module")
def b16_ref() -> dict[str, np.ndarray]:
    return _fp16_rounded(random_state(B16, seed=1))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_b16_round_trip_every_layout(tmp_path: Path, layout: str, b16_ref: dict[str, np.ndarray]) -> None:
    path = make_random_checkpoint("EVA02-CLIP-B-16", layout, tmp_path, seed=1)
    assert 299_000_000 < path.stat().st_size < 300_000_000  # fp16, like the published ~299.5 MB files
    _assert_same(load_eva_state(path, B16), b16_ref)
    path.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["EVA02-CLIP-L-14", "EVA02-CLIP-L-14-336"])
def test_large_round_trip(tmp_path: Path, arch: str) -> None:
    config = load_config(arch)
    path = make_random_checkpoint(arch, "open_clip-safetensors", tmp_path, seed=2)
    got = load_eva_state(path, config)
    path.unlink()
    assert {k: tuple(v.shape) for k, v in got.items()} == expected_shapes(config)
    for spec in param_specs(config)[:40:7]:  # spot values; all shapes are checked above
        want = random_tensor(spec, 2).astype(np.float16).astype(np.float32)
        assert np.array_equal(got[spec.name].numpy(), want), spec.name


# --- random weights ---


def test_random_state_is_seeded_and_sensible() -> None:
    a, a2, b = random_state(DEMO, 0), random_state(DEMO, 0), random_state(DEMO, 1)
    assert all(np.array_equal(v, a2[k]) for k, v in a.items())
    assert not np.array_equal(a["visual.head.weight"], b["visual.head.weight"])
    assert all(v.dtype == np.float32 for v in a.values())
    assert a["logit_scale"] == np.float32(math.log(100)) == np.float32(LOGIT_SCALE)
    tok = a["text.token_embedding.weight"]
    assert abs(tok.std() - 0.02) < 0.001 and abs(tok.mean()) < 0.001
    ln = a["visual.blocks.0.norm1.weight"]
    assert abs(ln.mean() - 1) < 0.01 and 0 < ln.std() < 0.05
    assert abs(a["visual.pos_embed"].std() - 0.01) < 0.002
    assert np.abs(a["visual.blocks.0.attn.proj.bias"]).max() < 0.1


def test_random_file_says_it_is_random(tmp_path: Path) -> None:
    path = make_random_checkpoint("EVA-Lens-demo", "open_clip-safetensors", tmp_path)
    with SafetensorsFile(path) as f:
        assert f.metadata["format"] == "pt" and "RANDOM" in f.metadata["eva_lens"]
        assert {f.info(k).dtype for k in f.keys()} == {"F16"}
    with pytest.raises(ValueError, match="unknown layout 'onnx'"):
        make_random_checkpoint("EVA-Lens-demo", "onnx", tmp_path)


# --- validation errors ---


def test_wrong_arch_names_the_right_one(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as e:
        validate_state(_shape_only_state("EVA02-CLIP-B-16"), load_config("EVA02-CLIP-L-14"))
    msg = str(e.value)
    assert "does not fit EVA02-CLIP-L-14" in msg
    assert "this looks like EVA02-CLIP-B-16; pass --arch EVA02-CLIP-B-16" in msg
    assert "vision width 768, 12 blocks, patch 16, 197 tokens (image 224), MLP 2048" in msg
    with pytest.raises(
        CheckpointError,
        match="pos_embed: expected \\[1, 257, 1024\\], found \\[1, 577, 1024\\]"
        "(.|\n)*pass --arch EVA02-CLIP-L-14-336",
    ):
        validate_state(_shape_only_state("EVA02-CLIP-L-14-336"), load_config("EVA02-CLIP-L-14"))
    path = make_random_checkpoint("EVA-Lens-demo", "open_clip-bin", tmp_path)
    with pytest.raises(CheckpointError, match="pass --arch EVA-Lens-demo"):
        load_eva_state(path, B16)


def test_missing_unexpected_and_misshaped_are_named() -> None:
    state = _shape_only_state("EVA-Lens-demo")
    del state["visual.blocks.2.attn.q_bias"]
    state["visual.blocks.0.attn.k_bias"] = np.zeros(128, np.float32)
    state["text.ln_final.weight"] = np.zeros(64, np.float32)
    with pytest.raises(CheckpointError) as e:
        validate_state(state, DEMO)
    msg = str(e.value)
    assert "missing (1):\n    visual.blocks.2.attn.q_bias [128]" in msg
    assert "unexpected (1):\n    visual.blocks.0.attn.k_bias [128]" in msg
    assert "wrong shape (1):\n    text.ln_final.weight: expected [128], found [64]" in msg
    assert "closest known architecture: EVA-Lens-demo" not in msg  # the current config is not suggested


def test_long_listings_are_cut_with_a_count() -> None:
    state = {k: v for k, v in _shape_only_state("EVA02-CLIP-B-16").items() if not k.startswith("text.")}
    with pytest.raises(CheckpointError) as e:
        validate_state(state, B16)
    n_text = sum(1 for k in expected_shapes(B16) if k.startswith("text."))
    assert f"missing ({n_text}):" in str(e.value) and f"... and {n_text - 20} more" in str(e.value)


def test_timm_image_tower_is_refused_clearly(tmp_path: Path) -> None:
    vision = {
        k[len("visual.trunk.") :]: torch.zeros(s)
        for k, s in ((eva_to_open_clip_name(k), s) for k, s in expected_shapes(DEMO).items())
        if k.startswith("visual.")
    }
    torch.save(vision, tmp_path / "pytorch_model.bin")
    assert detect_layout(read_checkpoint(tmp_path / "pytorch_model.bin")) == "timm_vision"
    with pytest.raises(CheckpointError, match="only a timm image tower .* needs both towers"):
        load_eva_state(tmp_path / "pytorch_model.bin", DEMO)


# --- files that are not checkpoints ---


def _truncated_pt(tmp_path: Path) -> bytes:
    torch.save({"a": torch.zeros(1000)}, tmp_path / "full.pt")
    return (tmp_path / "full.pt").read_bytes()[:2000]


NOT_CHECKPOINTS = {
    "empty.pt": (b"", "is empty (0 bytes)"),
    "notes.bin": (b"these are not the weights you are looking for\n", "is not a checkpoint (starts with b'these"),
    "page.pt": (b"<!DOCTYPE html><html><body>EVA</body></html>", "is an HTML page, not weights"),
    "lfs.pt": (b"version https://git-lfs.github.com/spec/v1\noid sha256:4aab\nsize 299522626\n", "Git LFS pointer"),
    "broken.safetensors": (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ", "not a valid safetensors file"),
}


@pytest.mark.parametrize("name", sorted(NOT_CHECKPOINTS))
def test_non_checkpoint_files_get_a_human_message(tmp_path: Path, name: str) -> None:
    content, message = NOT_CHECKPOINTS[name]
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CheckpointError, match=message.replace("(", "\\(").replace(")", "\\)")):
        read_checkpoint(tmp_path / name)


def test_broken_torch_files(tmp_path: Path) -> None:
    (tmp_path / "cut.pt").write_bytes(_truncated_pt(tmp_path))
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint .*truncated download"):
        read_checkpoint(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "nope.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        read_checkpoint(tmp_path / "list.pt")
    torch.save({"epoch": 3}, tmp_path / "notensor.pt")
    with pytest.raises(CheckpointError, match="holds no tensors"):
        read_checkpoint(tmp_path / "notensor.pt")
    torch.save({"a": torch.ones(2), "args": pickle.PickleError}, tmp_path / "objects.pt")
    with pytest.raises(CheckpointError, match="Python objects besides tensors"):
        read_checkpoint(tmp_path / "objects.pt")
    assert np.array_equal(read_checkpoint(tmp_path / "objects.pt", allow_pickle=True)["a"], [1, 1])
