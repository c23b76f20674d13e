"""2D rotary position embedding of the EVA-02 vision tower.

Follows ``VisionRotaryEmbeddingFast`` in baaivision/EVA ``EVA-CLIP/rei/eva_clip/rope.py`` (and timm's
``RotaryEmbeddingCat`` with ``ref_feat_shape``), re-derived in ``shared/reference/eva-clip-facts.md`` §3:

* half the head dim (32 for 64-dim heads) carries the row position, the other half the column position;
* frequencies ``10000 ** (-p / (head_dim / 4))`` for p in [0, head_dim / 4), each used by an adjacent pair of channels;
* positions are rescaled to the grid the model was pre-trained at (``t = i / G * pt_seq_len``), so B/16's 14x14 grid
  uses fractional positions;
* rotation acts on interleaved pairs (2k, 2k+1), not on the two halves as in GPT-NeoX.

The cos/sin tables are computed once in float32 and stored as constants, so the ONNX graph has no Sin/Cos ops.
"""

from __future__ import annotations

import torch


def rope_tables(grid: int, head_dim: int, pt_seq_len: int, theta: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(cos, sin)``, each ``[grid * grid, head_dim]`` float32, rows in row-major token order (r * grid + c)."""
    quarter = head_dim // 4  # frequencies per axis
    freqs = 1.0 / (theta ** (torch.arange(0, quarter, dtype=torch.float32) * 2 / (head_dim // 2)))  # [quarter]
    t = torch.arange(grid, dtype=torch.float32) / grid * pt_seq_len  # [G]
    ang_axis = torch.einsum("i,f->if", t, freqs).repeat_interleave(2, dim=-1)  # [G, head_dim/2], pairs share an angle
    rows = ang_axis[:, None, :].expand(grid, grid, -1)  # angle from the row index r
    cols = ang_axis[None, :, :].expand(grid, grid, -1)  # angle from the column index c
    ang = torch.cat([rows, cols], dim=-1).reshape(grid * grid, head_dim)  # [G*G, head_dim]
    return ang.cos(), ang.sin()


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """``y[2k] = -x[2k+1]``, ``y[2k+1] = x[2k]`` on the last axis (written with reshapes only: exports cleanly)."""
    pairs = x.reshape(*x.shape[:-1], -1, 2)  # [..., D/2, 2]
    rotated = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1)
    return rotated.reshape(x.shape)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` ``[B, H, N, D]`` (patch tokens only) by the tables ``[N, D]``."""
    return x * cos + rotate_pairs(x) * sin
