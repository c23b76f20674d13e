"""Architecture configs for EVA-CLIP models (open_clip style: architecture only, no weights or URLs).

The JSON files in ``configs/`` mirror ``EVA-CLIP/rei/eva_clip/model_configs/*.json`` of baaivision/EVA, with the MLP
hidden size written out (``int(width * 2.6667)``) instead of a ratio so that no float rounding decides a shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"

# OpenAI CLIP normalisation constants, used by EVA-CLIP and open_clip for EVA02 (eva_clip/constants.py).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class VisionConfig:
    image_size: int  # square input side in pixels
    patch_size: int  # conv stride = kernel
    width: int  # transformer width
    depth: int  # number of blocks
    heads: int  # attention heads (head dim = width // heads, 64 for all EVA02 models)
    mlp_hidden: int  # SwiGLU hidden size
    rope_pt_seq_len: int = 16  # grid size the RoPE frequencies were pre-trained at (positions scaled to it)
    ln_eps: float = 1e-6

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def head_dim(self) -> int:
        return self.width // self.heads


@dataclass(frozen=True)
class TextConfig:
    context_length: int
    vocab_size: int
    width: int
    heads: int
    layers: int
    mlp_hidden: int
    ln_eps: float = 1e-5


@dataclass(frozen=True)
class ClipConfig:
    name: str
    embed_dim: int
    vision: VisionConfig
    text: TextConfig
    published: dict = field(default_factory=dict)
    # How the app's model picker lists it (licence, speed sentence, measured sizes and build times with their source);
    # written into src/data/catalog.json by ``npm run models -- catalog``. Empty: not listed.
    catalog: dict = field(default_factory=dict)
    mean: tuple = CLIP_MEAN
    std: tuple = CLIP_STD

    @staticmethod
    def from_dict(d: dict) -> "ClipConfig":
        return ClipConfig(
            name=d["name"],
            embed_dim=d["embed_dim"],
            vision=VisionConfig(**d["vision"]),
            text=TextConfig(**d["text"]),
            published=d.get("published", {}),
            catalog=d.get("catalog", {}),
        )


def list_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json"))


def load_config(name: str) -> ClipConfig:
    """Load a config by name (e.g. 'EVA02-CLIP-B-16'); the error lists the known names."""
    path = CONFIG_DIR / f"{name}.json"
    if not path.exists():
        raise ValueError(f"unknown architecture '{name}'; known: {', '.join(list_configs())}")
    return ClipConfig.from_dict(json.loads(path.read_text()))
