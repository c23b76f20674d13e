"""Exported ONNX towers run in onnxruntime-web (Node, WASM — the runtime the app ships) and match PyTorch.

B/16 runs on a random-weight checkpoint with the real key names and shapes, written in the open_clip hub layout and
converted through the same code path as ``npm run models -- convert``. Thresholds from issue #3: cosine ≥ 0.9999 fp32,
≥ 0.99 int8, ≥ 0.97 4-bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from eva_lens.checkpoint import load_eva_state
from eva_lens.clip import EvaClip
from eva_lens.config import load_config
from eva_lens.ort_node import run_onnx_sets
from eva_lens.package import PackageInfo, build_package
from eva_lens.random_checkpoint import make_random_checkpoint

MIN_COSINE = {"fp32": 0.9999, "fp16": 0.999, "int8": 0.99, "q4": 0.97}
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"
PROMPTS = [
    [49406, 320, 1125, 539, 320, 2368, 269, 49407],
    [49406, 736, 49407],
    [49406, 320, 736, 1565, 530, 320, 3360, 269, 49407],
]


def _ids(rows: list[list[int]]) -> np.ndarray:
    seq = max(len(r) for r in rows)
    out = np.zeros((len(rows), seq), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


def _package(arch: str, out: Path, dtypes: list[str]) -> tuple[EvaClip, Path]:
    """Random open_clip-layout checkpoint → load through the converter's path → package."""
    config = load_config(arch)
    ckpt = make_random_checkpoint(arch, "open_clip-safetensors", out / "ckpt.safetensors", seed=3)
    model = EvaClip(config)
    model.load_state_dict(load_eva_state(ckpt, config), strict=True)
    model.eval()
    info = PackageInfo(f"{arch.lower()}-random", f"{arch} (random weights)", "random weights for tests", "n/a", "test")
    build_package(model, out, info, dtypes, log=lambda _: None)
    ckpt.unlink()
    return model, out


def _check(model: EvaClip, model_dir: Path, dtypes: list[str], seed: int = 0) -> dict:
    size = model.config.vision.image_size
    rng = np.random.default_rng(seed)
    pixels = rng.normal(0, 1, (2, 3, size, size)).astype(np.float32)
    ids = _ids(PROMPTS)
    with torch.no_grad():
        ref_img = model.encode_image(torch.from_numpy(pixels)).numpy()
        ref_txt = model.encode_text(torch.from_numpy(ids)).numpy()
    report = {}
    for dtype in dtypes:
        img = run_onnx_sets(model_dir / f"image.{dtype}.onnx", [{"pixel_values": pixels}]).outputs[0]["image_embeds"]
        txt = run_onnx_sets(model_dir / f"text.{dtype}.onnx", [{"input_ids": ids}]).outputs[0]["text_embeds"]
        report[dtype] = {"image": float(_cosines(img, ref_img).min()), "text": float(_cosines(txt, ref_txt).min())}
    return report


@pytest.fixture(scope="module")
def b16(tmp_path_factory):
    out = ARTIFACTS / "eva02-b16-random"  # kept (git-ignored) for the app's benchmark and browser tests
    return _package("EVA02-CLIP-B-16", out, ["fp32", "fp16", "int8", "q4"])


def test_b16_onnx_matches_pytorch(b16) -> None:
    model, model_dir = b16
    report = _check(model, model_dir, ["fp32", "fp16", "int8", "q4"])
    (model_dir / "parity.json").write_text(json.dumps(report, indent=1))
    for dtype, cos in report.items():
        assert cos["image"] >= MIN_COSINE[dtype], (dtype, cos)
        assert cos["text"] >= MIN_COSINE[dtype], (dtype, cos)


def test_b16_manifest_records_sizes_and_cosines(b16) -> None:
    _, model_dir = b16
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["architecture"] == "EVA02-CLIP-B-16" and manifest["embedDim"] == 512
    assert manifest["image"]["size"] == 224 and manifest["text"]["contextLength"] == 77
    for v in manifest["variants"]:
        assert (model_dir / v["imageModel"]["path"]).stat().st_size == v["imageModel"]["bytes"]
        assert v["measuredProbeCosine"]["image"] >= v["minProbeCosine"]
        assert v["measuredProbeCosine"]["text"] >= v["minProbeCosine"]
    sizes = {v["dtype"]: v["imageModel"]["bytes"] + v["textModel"]["bytes"] for v in manifest["variants"]}
    assert sizes["int8"] < sizes["fp32"] / 3 and sizes["q4"] < sizes["int8"]


def test_demo_architecture_onnx_matches_pytorch(tmp_path: Path) -> None:
    model, model_dir = _package("EVA-Lens-demo", tmp_path, ["fp32", "int8", "q4"])
    report = _check(model, model_dir, ["fp32", "int8", "q4"])
    for dtype, cos in report.items():
        assert cos["image"] >= MIN_COSINE[dtype], (dtype, cos)
        assert cos["text"] >= MIN_COSINE[dtype], (dtype, cos)


def test_text_graph_takes_any_sequence_length(tmp_path: Path) -> None:
    """The exported text graph gives the same embedding for a prompt padded to 8, 20 or 77 tokens."""
    model, model_dir = _package("EVA-Lens-demo", tmp_path, ["fp32"])
    sets = []
    for seq in (8, 20, 77):
        ids = np.zeros((1, seq), dtype=np.int64)
        ids[0, :8] = PROMPTS[0]
        sets.append({"input_ids": ids})
    outs = [o["text_embeds"] for o in run_onnx_sets(model_dir / "text.fp32.onnx", sets).outputs]
    for o in outs[1:]:
        assert np.abs(o - outs[0]).max() < 1e-5
