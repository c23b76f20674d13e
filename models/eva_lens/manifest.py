"""The model manifest: the one JSON file the app reads to know a model (schema: ``src/core/manifest.ts``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .config import ClipConfig

SCHEMA_VERSION = 1

# "a photo of a cat." in CLIP BPE: SOT, a, photo, of, a, cat, ., EOT.
PROBE_TEXT_IDS = [49406, 320, 1125, 539, 320, 2368, 269, 49407]

# Which backends each dtype is meant for, the WebGPU features it needs and the probe cosine below which a backend
# counts as broken (the acceptance thresholds for fp32 / quantized / 4-bit).
DTYPES: dict[str, dict] = {
    "fp32": {"backends": ["webgpu", "wasm"], "requiredFeatures": [], "minProbeCosine": 0.9999},
    "fp16": {"backends": ["webgpu"], "requiredFeatures": ["shader-f16"], "minProbeCosine": 0.99},
    "int8": {"backends": ["wasm"], "requiredFeatures": [], "minProbeCosine": 0.99},
    "q4": {"backends": ["webgpu", "wasm"], "requiredFeatures": [], "minProbeCosine": 0.97},
}


def probe_pixel_values(size: int) -> np.ndarray:
    """The generated probe image [1, 3, size, size] float32 (matches ``src/engine/inference/probe.ts`` bit for bit)."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(size), np.arange(size), indexing="ij")
    values = ((c * 37 + y * 11 + x * 7) % 23).astype(np.float32) / np.float32(11) - np.float32(1)
    return values[None].astype(np.float32)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: Path, base: Path) -> dict:
    return {"path": path.relative_to(base).as_posix(), "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def image_preprocess(config: ClipConfig) -> dict:
    """The manifest's ``image`` block: input size, normalisation and the reference resize."""
    return {
        "size": config.vision.image_size,
        "mean": list(config.mean),
        "std": list(config.std),
        "resizeMode": "shortest",
        "interpolation": "bicubic",
    }


def build_manifest(
    *,
    config: ClipConfig,
    model_id: str,
    name: str,
    description: str,
    license: str,
    source: str,
    logit_scale: float,
    out_dir: Path,
    variants: list[dict],
    probe_image_embedding: np.ndarray,
    probe_text_embedding: np.ndarray,
    metrics: dict | None = None,
    vocabulary: dict | None = None,
) -> dict:
    """``variants``: dicts with ``dtype``, ``image`` and ``text`` paths and ``cosine`` {image, text} measured in ORT.

    ``vocabulary`` (optional): for a model trained on a closed set of words, the words it knows (see
    ``demo.demo_vocabulary``); the app says so while it is in use and marks labels outside it. Omitted for CLIP
    models trained on open text.
    """
    return {
        "schemaVersion": SCHEMA_VERSION,
        "id": model_id,
        "name": name,
        "architecture": config.name,
        "description": description,
        "license": license,
        "source": source,
        **({"vocabulary": vocabulary} if vocabulary is not None else {}),
        "embedDim": config.embed_dim,
        "logitScale": float(logit_scale),
        "image": image_preprocess(config),
        "text": {
            "contextLength": config.text.context_length,
            "tokenizer": file_entry(out_dir / "tokenizer.json", out_dir),
            "bosTokenId": 49406,
            "eosTokenId": 49407,
            "padTokenId": 0,
        },
        "variants": [
            {
                "dtype": v["dtype"],
                **DTYPES[v["dtype"]],
                "imageModel": file_entry(v["image"], out_dir),
                "textModel": file_entry(v["text"], out_dir),
                "measuredProbeCosine": {k: round(float(c), 6) for k, c in v["cosine"].items()},
            }
            for v in variants
        ],
        "probe": {
            "imageFormula": "eva-lens-probe-v1",
            "imageEmbedding": [float(x) for x in probe_image_embedding],
            "textInputIds": PROBE_TEXT_IDS,
            "textEmbedding": [float(x) for x in probe_text_embedding],
        },
        "metrics": metrics or {},
    }


def write_manifest(manifest: dict, out_dir: Path) -> Path:
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path
