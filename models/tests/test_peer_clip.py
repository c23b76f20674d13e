"""The bench's transformers.js peer (eva_lens.peer_clip): the folder has the files transformers.js looks up, and its
quantized graphs, run in onnxruntime-web, agree with PyTorch. Toy sizes; the bench builds the B/16 shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from eva_lens.ort_node import run_onnx_sets
from eva_lens.peer_clip import TINY, make_peer, write_peer

DEMO_TOKENIZER = Path(__file__).resolve().parents[2] / "public" / "models" / "eva-lens-demo" / "tokenizer.json"
IDS = np.array([[49406, 320, 1125, 539, 320, 2368, 269, 49407], [49406, 736, 49407, 49407, 49407, 49407, 49407, 49407]])
MASK = np.array([[1] * 8, [1, 1, 1, 0, 0, 0, 0, 0]])


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


def test_peer_folder_has_the_transformers_js_layout(tmp_path: Path) -> None:
    written = write_peer(tmp_path, DEMO_TOKENIZER, TINY, seed=1)
    assert set(written) == {
        "onnx/model_quantized.onnx",
        "onnx/text_model_quantized.onnx",
        "onnx/vision_model_quantized.onnx",
    }
    for name in ("config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"):
        assert (tmp_path / name).is_file(), name
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "clip" and config["projection_dim"] == TINY.projection_dim
    assert config["vision_config"]["patch_size"] == 16 and config["text_config"]["max_position_embeddings"] == 77


def test_peer_graphs_match_pytorch(tmp_path: Path) -> None:
    write_peer(tmp_path, DEMO_TOKENIZER, TINY, seed=1)
    model = make_peer(TINY, seed=1)
    pixels = np.random.default_rng(0).normal(0, 1, (2, 3, TINY.image_size, TINY.image_size)).astype(np.float32)
    with torch.no_grad():
        ref_text, _ = model.text_model(torch.from_numpy(IDS), torch.from_numpy(MASK))
        ref_image, _ = model.vision_model(torch.from_numpy(pixels))
        ref_logits = model(torch.from_numpy(IDS), torch.from_numpy(pixels), torch.from_numpy(MASK))[0]
    onnx_dir = tmp_path / "onnx"
    text = run_onnx_sets(onnx_dir / "text_model_quantized.onnx", [{"input_ids": IDS, "attention_mask": MASK}])
    image = run_onnx_sets(onnx_dir / "vision_model_quantized.onnx", [{"pixel_values": pixels}])
    both = run_onnx_sets(
        onnx_dir / "model_quantized.onnx", [{"input_ids": IDS, "attention_mask": MASK, "pixel_values": pixels}]
    )
    assert _cosines(text.outputs[0]["text_embeds"], ref_text.numpy()).min() >= 0.99
    assert _cosines(image.outputs[0]["image_embeds"], ref_image.numpy()).min() >= 0.99
    logits = both.outputs[0]["logits_per_image"]
    assert logits.shape == (2, 2)
    assert np.abs(logits - ref_logits.numpy()).max() < 0.5  # logit scale 14.3 × cosines of int8 embeddings
