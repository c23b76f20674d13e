"""Random EVA-CLIP weights with the real tensor names and shapes, written in the three published file layouts.

They let the loader, the exporter and the browser be tested end to end with a full-size B/16 or L/14 without
downloading 300-900 MB of real weights. The numbers mean nothing; every file says so where its format allows
(safetensors ``__metadata__``).

Layouts (``../shared/reference/eva-clip-facts.md`` §2):
- ``official-pt``: ``EVA02_CLIP_*.pt`` as published by QuanSun/EVA-CLIP: fp16, EVA names (optionally wrapped);
- ``open_clip-bin``: ``open_clip_pytorch_model.bin`` from the timm hub repos: fp16, open_clip names;
- ``open_clip-safetensors``: ``open_clip_model.safetensors``: fp16, open_clip names.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .checkpoint import ParamSpec, eva_to_open_clip_name, param_specs
from .config import ClipConfig, load_config
from .safetensors_io import TensorSpec, write_streaming

LAYOUTS = ("official-pt", "open_clip-bin", "open_clip-safetensors")
OPEN_CLIP_BIN_NAME = "open_clip_pytorch_model.bin"
OPEN_CLIP_SAFETENSORS_NAME = "open_clip_model.safetensors"

WEIGHT_STD = 0.02  # linear / conv / embedding weights (CLIP-style init)
BIAS_STD = 0.01
NORM_NOISE_STD = 0.02  # LayerNorm weight = 1 + noise, so a test notices a norm whose weight is ignored
POSITION_STD = 0.01  # cls token, positional embeddings
LOGIT_SCALE = math.log(100.0)  # the value training clamps to (EVA train.py)

_STD = {
    "weight": WEIGHT_STD,
    "bias": BIAS_STD,
    "norm_weight": NORM_NOISE_STD,
    "norm_bias": BIAS_STD,
    "position": POSITION_STD,
}


# Weights that write into the residual stream: EVA's ``fix_init_weight`` divides them by sqrt(2 * (layer + 1)) at
# init (eva_vit_model.py); applied to both towers so that an untrained model's blocks add to the residual stream as
# they do in the real architecture, instead of each block drowning the signal of the ones before.
_RESIDUAL_OUT = re.compile(r"\.(blocks|resblocks)\.(\d+)\.(attn\.proj|mlp\.w3|attn\.out_proj|mlp\.c_proj)\.weight$")


def init_std(spec: ParamSpec) -> float:
    std = _STD[spec.role]
    match = _RESIDUAL_OUT.search(spec.name)
    if match:
        std /= math.sqrt(2.0 * (int(match.group(2)) + 1))
    return std


def random_tensor(spec: ParamSpec, seed: int) -> np.ndarray:
    """One tensor, float32; seeded by (seed, name) so any subset can be drawn in any order with the same values."""
    if spec.role == "scale":
        return np.full(spec.shape, LOGIT_SCALE, dtype=np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(spec.name.encode())])
    x = rng.standard_normal(spec.shape, dtype=np.float32)
    x *= np.float32(init_std(spec))
    if spec.role == "norm_weight":
        x += np.float32(1.0)
    return x


def random_state(config: ClipConfig | str, seed: int = 0) -> dict[str, np.ndarray]:
    """Every parameter with EVA names, float32 (B/16: 150M values, 600 MB)."""
    return {s.name: random_tensor(s, seed) for s in param_specs(config)}


def default_filename(config: ClipConfig, layout: str) -> str:
    if layout == "official-pt":
        return config.published.get("official_file") or f"{config.name}.pt"
    return OPEN_CLIP_BIN_NAME if layout == "open_clip-bin" else OPEN_CLIP_SAFETENSORS_NAME


def _write(
    specs: list[ParamSpec],
    produce: Callable[[str], np.ndarray],
    layout: str,
    out: Path,
    wrap: str | None,
    metadata: Mapping[str, str],
) -> None:
    """Write tensors given by EVA name in `layout`, fp16, one tensor produced at a time.

    Memory: safetensors streams (peak = one tensor); torch.save needs the whole fp16 dict (peak ≈ the file size),
    but never an fp32 copy of the model.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout '{layout}'; known: {', '.join(LAYOUTS)}")
    rename = (lambda n: n) if layout == "official-pt" else eva_to_open_clip_name
    if layout == "open_clip-safetensors":
        back = {rename(s.name): s.name for s in specs}
        tensor_specs = [TensorSpec(rename(s.name), "F16", s.shape) for s in specs]
        write_streaming(out, tensor_specs, lambda name: produce(back[name]), {"format": "pt", **metadata})
        return
    import torch

    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for s in specs:
        state[rename(s.name)] = torch.from_numpy(produce(s.name).astype(np.float16))
    tmp = out.with_name(out.name + ".partial")
    torch.save({wrap: state} if wrap else state, tmp)
    os.replace(tmp, out)


def _target(out: str | os.PathLike, config: ClipConfig, layout: str) -> Path:
    out = Path(out)
    if out.is_dir():
        out = out / default_filename(config, layout)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def save_state(
    state: Mapping[str, np.ndarray],
    config: ClipConfig,
    layout: str,
    out: str | os.PathLike,
    wrap: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write an EVA-named state (e.g. a trained demo model) as a published-style fp16 file; returns its path."""
    specs = param_specs(config)
    missing = [s.name for s in specs if s.name not in state]
    if missing:
        raise KeyError(f"state lacks {len(missing)} tensors of {config.name}, e.g. {missing[:3]}")
    path = _target(out, config, layout)
    _write(specs, lambda name: np.asarray(state[name], dtype=np.float32), layout, path, wrap, metadata or {})
    return path


def make_random_checkpoint(
    arch: str, layout: str, out: str | os.PathLike, seed: int = 0, wrap: str | None = None
) -> Path:
    """CLI entry: random weights for `arch` in `layout` at `out` (a file, or a folder for the published file name).

    Args:
        arch: config name, e.g. "EVA02-CLIP-B-16".
        layout: one of LAYOUTS.
        out: output file or existing folder.
        seed: values depend only on (seed, tensor name).
        wrap: for ``official-pt`` only, nest the state dict under this key (e.g. "model"), as training checkpoints do.

    Returns:
        The path written.
    """
    config = load_config(arch)
    if wrap and layout != "official-pt":
        raise ValueError("wrap is only meaningful for the official-pt layout")
    specs = param_specs(config)
    by_name = {s.name: s for s in specs}
    path = _target(out, config, layout)
    note = {"eva_lens": f"RANDOM weights (seed {seed}) with the {config.name} names and shapes; not a trained model"}
    _write(specs, lambda name: random_tensor(by_name[name], seed), layout, path, wrap, note)
    return path
