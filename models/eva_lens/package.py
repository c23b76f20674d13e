"""Turn an ``EvaClip`` into a model folder the app can load: ONNX per tower and dtype, tokenizer, manifest.

Every variant is run once in onnxruntime-web (Node, WASM) on the probe input and compared with PyTorch fp32, and the
measured cosine goes into the manifest: the numbers a person sees are measured, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import torch

from .clip import EvaClip
from .export_onnx import export_image_tower, export_text_tower
from .manifest import PROBE_TEXT_IDS, build_manifest, probe_pixel_values, write_manifest
from .ort_node import run_onnx
from .quantize import convert_fp16, quantize_int8, quantize_q4
from .tokenizer import export_tokenizer

CONVERTERS: dict[str, Callable[[onnx.ModelProto], onnx.ModelProto]] = {
    "fp32": lambda m: m,
    "fp16": convert_fp16,
    "int8": quantize_int8,
    "q4": quantize_q4,
}


@dataclass
class PackageInfo:
    model_id: str
    name: str
    description: str
    license: str
    source: str
    metrics: dict = field(default_factory=dict)
    # The closed set of words a model trained on synthetic captions knows (None: an open-vocabulary CLIP).
    vocabulary: dict | None = None


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def probe_embeddings(model: EvaClip) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch fp32 embeddings of the probe image and text: [D] each."""
    with torch.no_grad():
        pixels = torch.from_numpy(probe_pixel_values(model.config.vision.image_size))
        image = model.encode_image(pixels)[0].numpy()
        text = model.encode_text(torch.tensor([PROBE_TEXT_IDS]))[0].numpy()
    return image, text


def build_package(
    model: EvaClip,
    out_dir: Path,
    info: PackageInfo,
    dtypes: list[str],
    log: Callable[[str], None] = print,
) -> dict:
    """Write ``image.<dtype>.onnx``, ``text.<dtype>.onnx``, ``tokenizer.json`` and ``manifest.json`` to ``out_dir``."""
    unknown = [d for d in dtypes if d not in CONVERTERS]
    if unknown:
        raise ValueError(f"unknown dtype(s) {unknown}; choose from {list(CONVERTERS)}")
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    export_tokenizer(out_dir)
    size = model.config.vision.image_size
    probe_image, probe_text = probe_embeddings(model)
    feeds = {
        "image": {"pixel_values": probe_pixel_values(size)},
        "text": {"input_ids": np.array([PROBE_TEXT_IDS], dtype=np.int64)},
    }
    expected = {"image": probe_image, "text": probe_text}
    log("exporting fp32 towers")
    graphs = {"image": export_image_tower(model), "text": export_text_tower(model)}
    variants = []
    for dtype in dtypes:
        entry: dict = {"dtype": dtype, "cosine": {}}
        for tower, graph in graphs.items():
            path = out_dir / f"{tower}.{dtype}.onnx"
            onnx.save(CONVERTERS[dtype](graph), path)
            out = next(iter(run_onnx(path, feeds[tower]).values()))
            entry[tower] = path
            entry["cosine"][tower] = cosine(out, expected[tower])
            log(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, probe cosine {entry['cosine'][tower]:.6f}")
        variants.append(entry)
    manifest = build_manifest(
        config=model.config,
        model_id=info.model_id,
        name=info.name,
        description=info.description,
        license=info.license,
        source=info.source,
        logit_scale=float(model.logit_scale.exp()),
        out_dir=out_dir,
        variants=variants,
        probe_image_embedding=probe_image,
        probe_text_embedding=probe_text,
        metrics=info.metrics,
        vocabulary=info.vocabulary,
    )
    write_manifest(manifest, out_dir)
    return manifest
