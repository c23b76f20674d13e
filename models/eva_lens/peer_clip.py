"""The benchmark's peer: a random-weight OpenAI CLIP ViT-B/16 in the folder layout transformers.js loads (issue #19).

`npm run bench` runs transformers.js (`@huggingface/transformers`) beside EVA Lens in the same page. No network is
reachable, so the peer model is built here, with PyTorch and a fixed seed, at the real shapes of
``openai/clip-vit-base-patch16`` (vision: 224 px, patch 16, width 768, 12 layers, 12 heads; text: width 512, 12
layers, 8 heads, context 77, vocabulary 49,408; projection 512; quick GELU) and exported as Hugging Face's ONNX
exports are laid out::

    config.json  preprocessor_config.json  tokenizer.json  tokenizer_config.json
    onnx/model_quantized.onnx         CLIPModel: input_ids, attention_mask, pixel_values → logits_per_image, …
    onnx/text_model_quantized.onnx    CLIPTextModelWithProjection: input_ids, attention_mask → text_embeds, …
    onnx/vision_model_quantized.onnx  CLIPVisionModelWithProjection: pixel_values → image_embeds, …

``_quantized`` is the file transformers.js picks for its default dtype on WASM (``q8``); the graphs are quantized
with this toolchain's own int8 pass (``quantize.quantize_int8``, the scheme of EVA Lens's int8 variants), so the
comparison measures the two runtimes' paths, not two quantizers. The weights are random: the numbers are speed and
memory, never accuracy.

    node scripts/python.mjs -m eva_lens.peer_clip OUT_DIR [--tokenizer tokenizer.json] [--tiny]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F
from torch import nn

from .quantize import quantize_int8

OPSET = 17
# OpenAI CLIP's preprocessing (as in openai/clip-vit-base-patch16's preprocessor_config.json).
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
EOT_TOKEN = 49407


@dataclass(frozen=True)
class TowerShape:
    width: int
    layers: int
    heads: int
    mlp: int


@dataclass(frozen=True)
class PeerShape:
    image_size: int = 224
    patch_size: int = 16
    vision: TowerShape = TowerShape(768, 12, 12, 3072)
    text: TowerShape = TowerShape(512, 12, 8, 2048)
    context_length: int = 77
    vocab_size: int = 49408
    projection_dim: int = 512


B16 = PeerShape()
# The same graph at toy size, for the tests.
TINY = PeerShape(
    image_size=32,
    patch_size=16,
    vision=TowerShape(32, 2, 2, 64),
    text=TowerShape(32, 2, 2, 64),
    projection_dim=16,
)


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class EncoderLayer(nn.Module):
    """Pre-norm transformer block, as in HF ``CLIPEncoderLayer``."""

    def __init__(self, shape: TowerShape) -> None:
        super().__init__()
        self.heads = shape.heads
        self.layer_norm1 = nn.LayerNorm(shape.width)
        self.q_proj = nn.Linear(shape.width, shape.width)
        self.k_proj = nn.Linear(shape.width, shape.width)
        self.v_proj = nn.Linear(shape.width, shape.width)
        self.out_proj = nn.Linear(shape.width, shape.width)
        self.layer_norm2 = nn.LayerNorm(shape.width)
        self.fc1 = nn.Linear(shape.width, shape.mlp)
        self.act = QuickGELU()
        self.fc2 = nn.Linear(shape.mlp, shape.width)

    def attention(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        batch, seq, width = x.shape
        head_dim = width // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(batch, seq, self.heads, head_dim).transpose(1, 2)

        q = split(self.q_proj(x)) * (head_dim**-0.5)
        k, v = split(self.k_proj(x)), split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if bias is not None:
            scores = scores + bias
        out = scores.softmax(-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(batch, seq, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attention(self.layer_norm1(x), bias)
        return x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))


class VisionTower(nn.Module):
    def __init__(self, shape: PeerShape) -> None:
        super().__init__()
        v = shape.vision
        self.patch_embedding = nn.Conv2d(3, v.width, shape.patch_size, shape.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(v.width))
        self.position_embedding = nn.Parameter(torch.zeros((shape.image_size // shape.patch_size) ** 2 + 1, v.width))
        self.pre_layrnorm = nn.LayerNorm(v.width)
        self.layers = nn.ModuleList(EncoderLayer(v) for _ in range(v.layers))
        self.post_layernorm = nn.LayerNorm(v.width)
        self.visual_projection = nn.Linear(v.width, shape.projection_dim, bias=False)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        x = self.pre_layrnorm(torch.cat([cls, patches], 1) + self.position_embedding)
        for layer in self.layers:
            x = layer(x)
        return self.visual_projection(self.post_layernorm(x[:, 0])), x


class TextTower(nn.Module):
    def __init__(self, shape: PeerShape) -> None:
        super().__init__()
        t = shape.text
        self.token_embedding = nn.Embedding(shape.vocab_size, t.width)
        self.position_embedding = nn.Parameter(torch.zeros(shape.context_length, t.width))
        self.layers = nn.ModuleList(EncoderLayer(t) for _ in range(t.layers))
        self.final_layer_norm = nn.LayerNorm(t.width)
        self.text_projection = nn.Linear(t.width, shape.projection_dim, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        seq = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding[:seq]
        # Causal mask plus the padding mask, as HF's CLIPTextTransformer builds them.
        causal = torch.full((seq, seq), -1e9).triu(1)
        padding = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e9
        bias = causal + padding
        for layer in self.layers:
            x = layer(x, bias)
        x = self.final_layer_norm(x)
        # Pooled at the end-of-text token, the largest id (HF CLIP's argmax for the original vocabulary).
        pooled = x[torch.arange(x.shape[0]), input_ids.argmax(-1)]
        return self.text_projection(pooled), x


class PeerClip(nn.Module):
    def __init__(self, shape: PeerShape) -> None:
        super().__init__()
        self.shape = shape
        self.vision_model = VisionTower(shape)
        self.text_model = TextTower(shape)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(
        self, input_ids: torch.Tensor, pixel_values: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        image_embeds, _ = self.vision_model(pixel_values)
        text_embeds, _ = self.text_model(input_ids, attention_mask)
        image_embeds = F.normalize(image_embeds, dim=-1)
        text_embeds = F.normalize(text_embeds, dim=-1)
        logits_per_text = self.logit_scale.exp() * text_embeds @ image_embeds.t()
        return logits_per_text.t(), logits_per_text, text_embeds, image_embeds


def make_peer(shape: PeerShape = B16, seed: int = 0) -> PeerClip:
    """Random weights from a fixed seed (normal, std 0.02; LayerNorms at 1/0): the real shapes, no real knowledge."""
    torch.manual_seed(seed)
    model = PeerClip(shape)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name == "logit_scale":
                continue
            if "layer_norm" in name or "layrnorm" in name:
                param.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias"):
                param.zero_()
            else:
                param.normal_(0.0, 0.02)
    return model.eval()


class _TextOnly(nn.Module):
    def __init__(self, model: PeerClip) -> None:
        super().__init__()
        self.text_model = model.text_model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.text_model(input_ids, attention_mask)


class _VisionOnly(nn.Module):
    def __init__(self, model: PeerClip) -> None:
        super().__init__()
        self.vision_model = model.vision_model

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vision_model(pixel_values)


def _export(module: nn.Module, args: tuple, inputs: list[str], outputs: list[str], dynamic: dict) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            buf,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    return model


def export_graphs(model: PeerClip) -> dict[str, onnx.ModelProto]:
    """The three fp32 graphs (batch and sequence axes dynamic), named as transformers.js looks them up."""
    s = model.shape
    ids = torch.tensor([[49406, 320, 1125, 539, 320, 2368, 269, EOT_TOKEN], [49406, 736, EOT_TOKEN, 0, 0, 0, 0, 0]])
    mask = (torch.arange(ids.shape[1])[None, :] < torch.tensor([[8], [3]])).long()
    pixels = torch.zeros(1, 3, s.image_size, s.image_size)
    text_axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    image_axes = {"pixel_values": {0: "batch"}}
    return {
        "model": _export(
            model,
            (ids, pixels, mask),
            ["input_ids", "pixel_values", "attention_mask"],
            ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
            {
                **text_axes,
                **image_axes,
                "logits_per_image": {0: "image_batch", 1: "text_batch"},
                "logits_per_text": {0: "text_batch", 1: "image_batch"},
                "text_embeds": {0: "text_batch"},
                "image_embeds": {0: "image_batch"},
            },
        ),
        "text_model": _export(
            _TextOnly(model),
            (ids, mask),
            ["input_ids", "attention_mask"],
            ["text_embeds", "last_hidden_state"],
            {**text_axes, "text_embeds": {0: "batch"}, "last_hidden_state": {0: "batch", 1: "sequence"}},
        ),
        "vision_model": _export(
            _VisionOnly(model),
            (pixels,),
            ["pixel_values"],
            ["image_embeds", "last_hidden_state"],
            {**image_axes, "image_embeds": {0: "batch"}, "last_hidden_state": {0: "batch"}},
        ),
    }


def hf_config(shape: PeerShape) -> dict:
    """config.json in the keys of openai/clip-vit-base-patch16's (what transformers.js reads of it)."""
    v, t = shape.vision, shape.text
    return {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": shape.projection_dim,
        "logit_scale_init_value": 2.6592,
        "text_config": {
            "model_type": "clip_text_model",
            "hidden_size": t.width,
            "intermediate_size": t.mlp,
            "num_attention_heads": t.heads,
            "num_hidden_layers": t.layers,
            "max_position_embeddings": shape.context_length,
            "vocab_size": shape.vocab_size,
            "hidden_act": "quick_gelu",
            "projection_dim": shape.projection_dim,
            "bos_token_id": 49406,
            "eos_token_id": 49407,
            "pad_token_id": 1,
        },
        "vision_config": {
            "model_type": "clip_vision_model",
            "hidden_size": v.width,
            "intermediate_size": v.mlp,
            "num_attention_heads": v.heads,
            "num_hidden_layers": v.layers,
            "image_size": shape.image_size,
            "patch_size": shape.patch_size,
            "hidden_act": "quick_gelu",
            "projection_dim": shape.projection_dim,
        },
        "eva_lens_note": "random weights (seeded) at the real shapes, built by models/eva_lens/peer_clip.py",
    }


def preprocessor_config(shape: PeerShape) -> dict:
    return {
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_processor_type": "CLIPImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": shape.image_size},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": shape.image_size, "width": shape.image_size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
        "do_convert_rgb": True,
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "CLIPTokenizer",
    "model_max_length": 77,
    "bos_token": "<|startoftext|>",
    "eos_token": "<|endoftext|>",
    "pad_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>",
    "do_lower_case": True,
    "clean_up_tokenization_spaces": False,
}


def write_peer(out: Path, tokenizer_json: Path, shape: PeerShape = B16, seed: int = 0) -> dict:
    """Writes the folder; returns what was written (file → bytes)."""
    model = make_peer(shape, seed)
    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name, graph in export_graphs(model).items():
        path = onnx_dir / f"{name}_quantized.onnx"
        onnx.save(quantize_int8(graph), str(path))
        written[str(path.relative_to(out))] = path.stat().st_size
    (out / "config.json").write_text(json.dumps(hf_config(shape), indent=1))
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor_config(shape), indent=1))
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=1))
    shutil.copyfile(tokenizer_json, out / "tokenizer.json")
    (out / "peer.json").write_text(json.dumps({"seed": seed, "shape": asdict(shape), "files": written}, indent=1))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--tokenizer", type=Path, required=True, help="a CLIP tokenizer.json (HF tokenizers format)")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    written = write_peer(args.out, args.tokenizer, TINY if args.tiny else B16, args.seed)
    print(json.dumps(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
