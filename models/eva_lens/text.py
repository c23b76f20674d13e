"""The CLIP text tower used by EVA-CLIP (``TextTransformer`` in open_clip / EVA ``transformer.py``).

Token + position embeddings, pre-LN causal transformer blocks (packed ``in_proj`` q/k/v, exact-erf GELU MLP, LayerNorm
eps 1e-5), final LayerNorm, pooling at the end-of-text token (the largest id, so ``argmax`` of the ids finds it),
projection without bias. Parameter names are the official EVA-CLIP / open_clip names.

The sequence length is dynamic: under the causal mask no token at or before the end-of-text token can see the padding
after it, so running a batch padded only to its longest prompt gives the same embeddings as padding to 77.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import TextConfig


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        w = cfg.width
        self.heads = cfg.heads
        self.scale = (w // cfg.heads) ** -0.5
        self.in_proj_weight = nn.Parameter(torch.empty(3 * w, w))  # q, k, v stacked (nn.MultiheadAttention layout)
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * w))
        self.out_proj = nn.Linear(w, w)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.reshape(b, n, self.heads, -1).transpose(1, 2)  # [B, H, N, D]

    def forward(self, x: torch.Tensor, query: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """``x`` [B, S, W] keys/values; ``query`` [B, Sq, W]; ``key_mask`` [B or 1, 1, Sq, S], True where masked."""
        wq, wk, wv = self.in_proj_weight.chunk(3, dim=0)
        bq, bk, bv = self.in_proj_bias.chunk(3, dim=0)
        q = self._split(F.linear(query, wq, bq))
        k = self._split(F.linear(x, wk, bk))
        v = self._split(F.linear(x, wv, bv))
        scores = ((q * self.scale) @ k.transpose(-2, -1)).masked_fill(key_mask, float("-inf"))  # [B, H, Sq, S]
        out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).flatten(2)  # [B, Sq, W]
        return self.out_proj(out)


class Mlp(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.width, cfg.mlp_hidden)
        self.c_proj = nn.Linear(cfg.mlp_hidden, cfg.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.gelu(self.c_fc(x)))  # exact erf GELU, not QuickGELU (EVA02 configs)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.mlp = Mlp(cfg)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor, query_index: torch.Tensor | None = None) -> torch.Tensor:
        """With ``query_index`` [B] only that token's output is computed ([B, 1, W]): the pooled token is all the last
        block needs to produce."""
        h = self.ln_1(x)
        if query_index is None:
            residual, query = x, h
        else:
            rows = torch.arange(x.shape[0])
            residual, query = x[rows, query_index][:, None], h[rows, query_index][:, None]
        x = residual + self.attn(h, query, key_mask)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(cfg) for _ in range(cfg.layers))


class TextTower(nn.Module):
    def __init__(self, cfg: TextConfig, embed_dim: int):
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.context_length, cfg.width))
        self.transformer = Transformer(cfg)
        self.ln_final = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.text_projection = nn.Parameter(torch.empty(cfg.width, embed_dim))  # used as x @ P ([in, out])
        nn.init.normal_(self.text_projection, std=cfg.width**-0.5)
        causal = torch.triu(torch.ones(cfg.context_length, cfg.context_length, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", causal, persistent=False)

    def forward(self, input_ids: torch.Tensor, last_block_eot_only: bool = False) -> torch.Tensor:
        """``input_ids`` [B, S] int64 (S ≤ context, zero padded after EOT) → text embedding [B, embed_dim]."""
        seq = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.positional_embedding[:seq]  # [B, S, W]
        # int32 before ArgMax: onnxruntime kernels for int64 ArgMax are missing on some backends.
        eot = input_ids.to(torch.int32).argmax(dim=-1)  # [B]
        full_mask = self.causal_mask[:seq, :seq][None, None]  # [1, 1, S, S]
        blocks = self.transformer.resblocks
        for i, block in enumerate(blocks):
            if last_block_eot_only and i == len(blocks) - 1:
                # Only the EOT query: keys after it are masked (the causal row of the EOT position).
                eot_mask = torch.arange(seq)[None, :] > eot[:, None]  # [B, S]
                x = block(x, eot_mask[:, None, None, :], query_index=eot)  # [B, 1, W]
                return self.ln_final(x[:, 0]) @ self.text_projection
            x = block(x, full_mask)
        pooled = x[torch.arange(x.shape[0]), eot]  # [B, W]
        return self.ln_final(pooled) @ self.text_projection
