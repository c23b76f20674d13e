"""The EVA-02 vision tower as EVA-CLIP defines it (``eva_vit_model.py`` in baaivision/EVA, ``eva.py`` in timm).

Pre-norm blocks without layer scale; attention with q and v biases but no k bias, 2D RoPE on the patch tokens' q and k,
and a sub-LayerNorm over the merged heads before the output projection; SwiGLU MLP with a LayerNorm before ``w3``;
final LayerNorm, class-token pooling, linear head with bias. Parameter names are the official EVA-CLIP ``.pt`` names.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import VisionConfig
from .rope import apply_rope, rope_tables


class PatchEmbed(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.proj = nn.Conv2d(3, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # [B, W, G, G]
        return x.flatten(2).transpose(1, 2)  # [B, G*G, W], token index = row * G + col


class Attention(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        w = cfg.width
        self.heads = cfg.heads
        self.scale = cfg.head_dim**-0.5
        self.q_proj = nn.Linear(w, w, bias=False)
        self.k_proj = nn.Linear(w, w, bias=False)
        self.v_proj = nn.Linear(w, w, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(w))
        self.v_bias = nn.Parameter(torch.zeros(w))
        self.inner_attn_ln = nn.LayerNorm(w, eps=cfg.ln_eps)
        self.proj = nn.Linear(w, w)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.reshape(b, n, self.heads, -1).transpose(1, 2)  # [B, H, N, D]

    def _rope(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        # The class token (index 0) is not rotated.
        return torch.cat([x[:, :, :1], apply_rope(x[:, :, 1:], cos, sin)], dim=2)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        """``x`` [B, N, W] → [B, N, W]; with ``cls_only`` only the class token's output is computed ([B, 1, W]).

        Under class-token pooling the last block's other outputs are never read, so the export skips them: the same
        numbers for a fraction of the last block's attention and MLP cost.
        """
        q_in = x[:, :1] if cls_only else x
        q = self._split(F.linear(q_in, self.q_proj.weight, self.q_bias))
        k = self._split(self.k_proj(x))
        v = self._split(F.linear(x, self.v_proj.weight, self.v_bias))
        if not cls_only:
            q = self._rope(q, cos, sin)
        k = self._rope(k, cos, sin)
        attn = torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1)  # [B, H, Nq, N]
        out = (attn @ v).transpose(1, 2).flatten(2)  # [B, Nq, W]
        return self.proj(self.inner_attn_ln(out))


class SwiGLU(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.width, cfg.mlp_hidden)  # gate
        self.w2 = nn.Linear(cfg.width, cfg.mlp_hidden)  # value
        self.ffn_ln = nn.LayerNorm(cfg.mlp_hidden, eps=cfg.ln_eps)
        self.w3 = nn.Linear(cfg.mlp_hidden, cfg.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w3(self.ffn_ln(F.silu(self.w1(x)) * self.w2(x)))


class Block(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cls_only: bool = False) -> torch.Tensor:
        residual = x[:, :1] if cls_only else x
        x = residual + self.attn(self.norm1(x), cos, sin, cls_only)
        return x + self.mlp(self.norm2(x))


class EvaVisionTower(nn.Module):
    def __init__(self, cfg: VisionConfig, embed_dim: int):
        super().__init__()
        self.cfg = cfg
        n_tokens = cfg.grid * cfg.grid + 1
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.width))
        self.pos_embed = nn.Parameter(torch.zeros(1, n_tokens, cfg.width))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.head = nn.Linear(cfg.width, embed_dim)
        cos, sin = rope_tables(cfg.grid, cfg.head_dim, cfg.rope_pt_seq_len)
        # Not persistent: official checkpoints omit them (EVA's loader deletes them) and they are derived anyway.
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, pixel_values: torch.Tensor, last_block_cls_only: bool = False) -> torch.Tensor:
        """``pixel_values`` [B, 3, S, S] (normalised) → image embedding [B, embed_dim] (not L2-normalised)."""
        x = self.patch_embed(pixel_values)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # [B, N+1, W]
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            x = block(x, self.rope_cos, self.rope_sin, cls_only=last_block_cls_only and i == last)
        return self.head(self.norm(x[:, 0]))
