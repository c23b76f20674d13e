"""Load EVA-CLIP weights from the published files and map them onto our (official EVA-CLIP ``.pt``) names.

Accepted files (``../shared/reference/eva-clip-facts.md`` §2):
- official ``EVA02_CLIP_*.pt`` (``QuanSun/EVA-CLIP``): our names already; RoPE buffers (``*rope.freqs_*``) are dropped,
  as EVA's own loader does, because the model recomputes them;
- open_clip hub ``open_clip_pytorch_model.bin`` / ``open_clip_model.safetensors`` (``timm/eva02_*``): the image tower
  is a timm trunk under ``visual.trunk.*`` with timm names, mapped back with the table below (the inverse of timm's
  ``eva.py::checkpoint_filter_fn``); ``text.*`` and ``logit_scale`` are the same;
- timm image-tower-only files (no prefix) are recognised and mapped, but refused by `load_eva_state`: no text tower.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal, Mapping

import numpy as np

from .config import ClipConfig, list_configs, load_config
from .safetensors_io import SafetensorsError, SafetensorsFile

if TYPE_CHECKING:
    import torch

Layout = Literal["eva", "open_clip", "timm_vision"]
MAX_LISTED = 20  # per category in a validation error; the rest are counted


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with a message meant for the person who chose the file."""


# --------------------------------------------------------------------------------------------------------------------
# Expected tensors


@dataclass(frozen=True)
class ParamSpec:
    name: str  # official EVA-CLIP name
    shape: tuple[int, ...]
    role: str  # how `random_checkpoint` initialises it: weight | bias | norm_weight | norm_bias | position | scale


def _norm(prefix: str, width: int) -> list[ParamSpec]:
    return [ParamSpec(f"{prefix}.weight", (width,), "norm_weight"), ParamSpec(f"{prefix}.bias", (width,), "norm_bias")]


def _linear(prefix: str, out_dim: int, in_dim: int) -> list[ParamSpec]:
    return [ParamSpec(f"{prefix}.weight", (out_dim, in_dim), "weight"), ParamSpec(f"{prefix}.bias", (out_dim,), "bias")]


def param_specs(config: ClipConfig | str) -> list[ParamSpec]:
    """Every parameter of the model in state-dict order, with EVA names (§2a), shapes and init role."""
    cfg = load_config(config) if isinstance(config, str) else config
    v, t, e = cfg.vision, cfg.text, cfg.embed_dim
    w, h = v.width, v.mlp_hidden
    specs = [
        ParamSpec("visual.cls_token", (1, 1, w), "position"),
        ParamSpec("visual.pos_embed", (1, v.grid * v.grid + 1, w), "position"),
        ParamSpec("visual.patch_embed.proj.weight", (w, 3, v.patch_size, v.patch_size), "weight"),
        ParamSpec("visual.patch_embed.proj.bias", (w,), "bias"),
    ]
    for i in range(v.depth):
        b = f"visual.blocks.{i}"
        specs += _norm(f"{b}.norm1", w)
        specs += [ParamSpec(f"{b}.attn.{p}_proj.weight", (w, w), "weight") for p in "qkv"]
        specs += [ParamSpec(f"{b}.attn.q_bias", (w,), "bias"), ParamSpec(f"{b}.attn.v_bias", (w,), "bias")]
        specs += _norm(f"{b}.attn.inner_attn_ln", w) + _linear(f"{b}.attn.proj", w, w) + _norm(f"{b}.norm2", w)
        specs += _linear(f"{b}.mlp.w1", h, w) + _linear(f"{b}.mlp.w2", h, w) + _norm(f"{b}.mlp.ffn_ln", h)
        specs += _linear(f"{b}.mlp.w3", w, h)
    specs += _norm("visual.norm", w) + _linear("visual.head", e, w)
    tw = t.width
    specs += [
        ParamSpec("text.token_embedding.weight", (t.vocab_size, tw), "weight"),
        ParamSpec("text.positional_embedding", (t.context_length, tw), "position"),
    ]
    for j in range(t.layers):
        b = f"text.transformer.resblocks.{j}"
        specs += _norm(f"{b}.ln_1", tw)
        specs += [
            ParamSpec(f"{b}.attn.in_proj_weight", (3 * tw, tw), "weight"),
            ParamSpec(f"{b}.attn.in_proj_bias", (3 * tw,), "bias"),
        ]
        specs += _linear(f"{b}.attn.out_proj", tw, tw) + _norm(f"{b}.ln_2", tw)
        specs += _linear(f"{b}.mlp.c_fc", t.mlp_hidden, tw) + _linear(f"{b}.mlp.c_proj", tw, t.mlp_hidden)
    specs += _norm("text.ln_final", tw)
    specs += [ParamSpec("text.text_projection", (tw, e), "weight"), ParamSpec("logit_scale", (), "scale")]
    return specs


def expected_shapes(config: ClipConfig | str) -> dict[str, tuple[int, ...]]:
    """EVA name → shape for every parameter (no RoPE buffers: they are recomputed)."""
    return {s.name: s.shape for s in param_specs(config)}


# --------------------------------------------------------------------------------------------------------------------
# Renaming: open_clip / timm → EVA

OPEN_CLIP_TRUNK = "visual.trunk."
# Inside `visual.blocks.{i}.`: EVA suffix → timm suffix, for every name that differs (timm eva.py L1168-1292).
# Names not listed are identical in both layouts.
BLOCK_RENAMES: dict[str, str] = {
    "attn.q_bias": "attn.q_proj.bias",
    "attn.v_bias": "attn.v_proj.bias",
    "attn.inner_attn_ln.weight": "attn.norm.weight",
    "attn.inner_attn_ln.bias": "attn.norm.bias",
    "mlp.w1.weight": "mlp.fc1_g.weight",  # gate: SiLU(w1 x)
    "mlp.w1.bias": "mlp.fc1_g.bias",
    "mlp.w2.weight": "mlp.fc1_x.weight",  # value
    "mlp.w2.bias": "mlp.fc1_x.bias",
    "mlp.ffn_ln.weight": "mlp.norm.weight",
    "mlp.ffn_ln.bias": "mlp.norm.bias",
    "mlp.w3.weight": "mlp.fc2.weight",
    "mlp.w3.bias": "mlp.fc2.bias",
}
_BLOCK_RENAMES_BACK = {v: k for k, v in BLOCK_RENAMES.items()}
_BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")


def eva_to_open_clip_name(name: str) -> str:
    """EVA name → the name the same tensor has in open_clip's hub files."""
    if not name.startswith("visual."):
        return name  # text.* and logit_scale are shared
    rest = name[len("visual.") :]
    m = _BLOCK.match(rest)
    if m:
        rest = f"blocks.{m[1]}.{BLOCK_RENAMES.get(m[2], m[2])}"
    return OPEN_CLIP_TRUNK + rest


def open_clip_to_eva_name(name: str) -> str:
    """open_clip hub name → EVA name; names outside the table pass through (and later show up as unexpected)."""
    if not name.startswith(OPEN_CLIP_TRUNK):
        return name
    rest = name[len(OPEN_CLIP_TRUNK) :]
    m = _BLOCK.match(rest)
    if m:
        rest = f"blocks.{m[1]}.{_BLOCK_RENAMES_BACK.get(m[2], m[2])}"
    return "visual." + rest


def hub_to_eva_mapping(config: ClipConfig | str) -> list[dict]:
    """JSON-ready table: for each EVA tensor, its source in ``open_clip_model.safetensors`` and the operation.

    Every operation is a pure rename or a no-op (same name); no tensor is split, merged or transposed.
    """
    rows = []
    for s in param_specs(config):
        src = eva_to_open_clip_name(s.name)
        rows.append(
            {"name": s.name, "shape": list(s.shape), "sources": [src], "op": "no-op" if src == s.name else "rename"}
        )
    return rows


def is_rope_key(name: str) -> bool:
    """RoPE tables stored by some exports; we recompute them, EVA's and timm's loaders drop them too."""
    return "rope" in name


def detect_layout(keys: Iterable[str]) -> Layout:
    """'eva' (official .pt), 'open_clip' (hub .bin/.safetensors) or 'timm_vision' (timm image tower, no prefix)."""
    keys = [k for k in keys if not is_rope_key(k)]
    if any(k.startswith(OPEN_CLIP_TRUNK) for k in keys):
        return "open_clip"
    if any(k.startswith("visual.blocks.") or k == "visual.cls_token" for k in keys):
        return "eva"
    if "cls_token" in keys and any(k.startswith("blocks.") for k in keys):
        return "timm_vision"
    if any(k.startswith(("visual.transformer.", "visual.class_embedding")) for k in keys):
        raise CheckpointError(
            "this is a ViT CLIP checkpoint in the OpenAI/open_clip layout (visual.transformer.*), "
            "not EVA-CLIP; EVA Lens loads EVA02-CLIP weights only"
        )
    sample = ", ".join(sorted(keys)[:8]) or "(none)"
    raise CheckpointError(
        f"unrecognised checkpoint layout: expected EVA-CLIP keys (visual.blocks.*, text.*), "
        f"open_clip keys (visual.trunk.*) or timm keys (blocks.*); first keys: {sample}"
    )


def to_eva_names(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename any accepted layout to EVA names and drop RoPE buffers; tensors are not copied."""
    layout = detect_layout(state.keys())
    out: dict[str, np.ndarray] = {}
    for k, v in state.items():
        if is_rope_key(k):
            continue
        if layout == "open_clip":
            k = open_clip_to_eva_name(k)
        elif layout == "timm_vision":
            k = open_clip_to_eva_name(OPEN_CLIP_TRUNK + k)
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------------------------------
# Reading files

_NOT_A_CHECKPOINT_HINT = (
    "expected an official EVA-CLIP .pt (e.g. EVA02_CLIP_B_psz16_s8B.pt), "
    "open_clip_pytorch_model.bin or open_clip_model.safetensors"
)


def _sniff(path: Path) -> str:
    """'torch' or 'safetensors' from the first bytes; raise for files that are clearly something else."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64)
    if not head:
        raise CheckpointError(f"{path} is empty (0 bytes); the download probably failed")
    if head.startswith(b"version https://git-lfs"):
        raise CheckpointError(
            f"{path} is a Git LFS pointer, not the weights; fetch the real file "
            "(git lfs pull, or download via the /resolve/ URL)"
        )
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise CheckpointError(
            f"{path} is an HTML page, not weights; on Hugging Face use the /resolve/ " "URL rather than /blob/"
        )
    # safetensors first: its 8-byte length may itself start with 0x80, the pickle protocol byte.
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return "torch"  # zip (torch >= 1.6) or legacy pickle
    if path.suffix == ".safetensors":
        return "safetensors"  # let the reader say precisely what is wrong
    raise CheckpointError(f"{path} is not a checkpoint (starts with {head[:16]!r}); {_NOT_A_CHECKPOINT_HINT}")


def _unwrap(obj: object) -> dict:
    """Find the state dict inside what torch.load returned (same wrappers EVA's factory.py accepts)."""
    for _ in range(4):
        if isinstance(obj, Mapping):
            inner = next((obj[k] for k in ("state_dict", "model", "module") if isinstance(obj.get(k), Mapping)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"the file holds a {type(obj).__name__}, not a state dict; {_NOT_A_CHECKPOINT_HINT}")
    return {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in obj.items()}


def _read_torch(path: Path, allow_pickle: bool) -> dict[str, np.ndarray]:
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as e:
        if not allow_pickle and "weights_only" in str(e).lower():
            raise CheckpointError(
                f"{path} contains Python objects besides tensors, which are not loaded for "
                f"safety; re-save its state_dict, or pass allow_pickle=True if you trust it ({e})"
            )
        raise CheckpointError(f"{path} is not a PyTorch checkpoint ({e}); {_NOT_A_CHECKPOINT_HINT}") from None
    except (RuntimeError, EOFError, ValueError, OSError) as e:
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint ({type(e).__name__}: {e}); "
            f"truncated download? {_NOT_A_CHECKPOINT_HINT}"
        ) from None
    state = {}
    for k, v in _unwrap(obj).items():
        if isinstance(v, torch.Tensor):
            v = v.detach()
            state[k] = (v.float() if v.is_floating_point() else v).numpy()
    if not state:
        raise CheckpointError(f"{path} holds no tensors; {_NOT_A_CHECKPOINT_HINT}")
    return state


def read_checkpoint(path: str | os.PathLike, allow_pickle: bool = False) -> dict[str, np.ndarray]:
    """Read a ``.pt``/``.bin``/``.safetensors`` checkpoint as name → numpy array; fp16/bf16 become float32.

    Names are as stored (after unwrapping ``model``/``module``/``state_dict`` and stripping ``module.``).
    ``allow_pickle`` lets torch unpickle arbitrary objects: only for files you trust.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist or is not a file")
    if _sniff(path) == "torch":
        return _read_torch(path, allow_pickle)
    try:
        with SafetensorsFile(path) as f:
            return {
                k: (a.astype(np.float32) if a.dtype.kind == "f" and a.dtype != np.float32 else a) for k, a in f.items()
            }
    except SafetensorsError as e:
        raise CheckpointError(f"not a valid safetensors file: {e}") from None


# --------------------------------------------------------------------------------------------------------------------
# Validation


def _shape(a: object) -> tuple[int, ...]:
    return tuple(int(d) for d in getattr(a, "shape"))


def _listing(title: str, items: list[str]) -> str:
    more = f"\n    ... and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return f"  {title} ({len(items)}):\n" + "\n".join(f"    {s}" for s in items[:MAX_LISTED]) + more


def describe_state(shapes: Mapping[str, tuple[int, ...]]) -> str:
    """What architecture an EVA-named state looks like, from its shapes (for error messages)."""

    def get(name: str) -> tuple[int, ...] | None:
        return shapes.get(name)

    parts = []
    cls, pos, patch = get("visual.cls_token"), get("visual.pos_embed"), get("visual.patch_embed.proj.weight")
    if cls and pos and patch and len(pos) == 3 and len(patch) == 4:
        depth = len({k.split(".")[2] for k in shapes if k.startswith("visual.blocks.")})
        grid = math.isqrt(max(pos[1] - 1, 0))
        mlp = get("visual.blocks.0.mlp.w1.weight")
        parts.append(
            f"vision width {cls[-1]}, {depth} blocks, patch {patch[-1]}, {pos[1]} tokens "
            f"(image {grid * patch[-1]}), MLP {mlp[0] if mlp else '?'}"
        )
    tpos = get("text.positional_embedding")
    if tpos and len(tpos) == 2:
        layers = len({k.split(".")[3] for k in shapes if k.startswith("text.transformer.resblocks.")})
        parts.append(f"text width {tpos[1]}, {layers} layers")
    head = get("visual.head.weight")
    if head:
        parts.append(f"embed dim {head[0]}")
    return "; ".join(parts) or "unknown architecture"


def _matching_config(shapes: Mapping[str, tuple[int, ...]], current: str) -> str:
    """A hint naming the known config these shapes fit, or the closest one."""
    best, best_hits = None, 0
    for name in list_configs():
        want = expected_shapes(load_config(name))
        if want == dict(shapes) and name != current:
            return f"this looks like {name}; pass --arch {name}"
        hits = sum(1 for k, s in want.items() if shapes.get(k) == s)
        if name != current and hits > best_hits:
            best, best_hits = name, hits
    if best is not None and best_hits >= 0.5 * len(shapes):
        return f"closest known architecture: {best} ({best_hits} of {len(shapes)} tensors fit)"
    return f"no known architecture fits ({', '.join(list_configs())})"


def validate_state(state: Mapping[str, object], config: ClipConfig) -> None:
    """Raise `CheckpointError` naming missing, unexpected and mis-shaped tensors (RoPE buffers are ignored)."""
    want = expected_shapes(config)
    got = {k: _shape(v) for k, v in state.items() if not is_rope_key(k)}
    missing = [f"{k} {list(s)}" for k, s in want.items() if k not in got]
    unexpected = [f"{k} {list(s)}" for k, s in got.items() if k not in want]
    wrong = [f"{k}: expected {list(want[k])}, found {list(s)}" for k, s in got.items() if k in want and s != want[k]]
    if not (missing or unexpected or wrong):
        return
    lines = [f"checkpoint does not fit {config.name}:"]
    lines += [
        _listing(t, items)
        for t, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
        if items
    ]
    lines.append(f"  the checkpoint has: {describe_state(got)}")
    lines.append(f"  {_matching_config(got, config.name)}")
    raise CheckpointError("\n".join(lines))


def load_eva_state(
    path: str | os.PathLike, config: ClipConfig, allow_pickle: bool = False
) -> dict[str, "torch.Tensor"]:
    """Read + rename + validate: float32 tensors ready for ``EvaClip(config).load_state_dict(strict=True)``."""
    import torch

    raw = read_checkpoint(path, allow_pickle=allow_pickle)
    layout = detect_layout(raw.keys())
    if layout == "timm_vision":
        hub = config.published.get("hub_repo", "the open_clip hub repo")
        raise CheckpointError(
            f"{path} holds only a timm image tower (no text tower); EVA Lens needs both towers: "
            f"use open_clip_model.safetensors from https://huggingface.co/{hub} "
            f"or the official EVA-CLIP .pt"
        )
    state = to_eva_names(raw)
    validate_state(state, config)
    return {k: torch.from_numpy(np.asarray(v, dtype=np.float32, order="C")) for k, v in state.items()}
