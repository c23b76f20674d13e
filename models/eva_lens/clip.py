"""EVA-CLIP: the EVA-02 vision tower, the CLIP text tower and the learned logit scale."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ClipConfig
from .text import TextTower
from .vision import EvaVisionTower


class EvaClip(nn.Module):
    """``state_dict()`` keys are the official EVA-CLIP ``.pt`` names (``visual.*``, ``text.*``, ``logit_scale``)."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        self.visual = EvaVisionTower(config.vision, config.embed_dim)
        self.text = TextTower(config.text, config.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixel_values: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        emb = self.visual(pixel_values)
        return F.normalize(emb, dim=-1) if normalize else emb

    def encode_text(self, input_ids: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        emb = self.text(input_ids)
        return F.normalize(emb, dim=-1) if normalize else emb

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """Image-to-text logits [B_img, B_txt] = exp(logit_scale) * cosine."""
        img = self.encode_image(pixel_values, normalize=True)
        txt = self.encode_text(input_ids, normalize=True)
        return self.logit_scale.exp() * img @ txt.t()


class ImageEncoderForExport(nn.Module):
    """``pixel_values`` → ``image_embeds``; the last block computes the class token only."""

    def __init__(self, model: EvaClip):
        super().__init__()
        self.visual = model.visual

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.visual(pixel_values, last_block_cls_only=True)


class TextEncoderForExport(nn.Module):
    """``input_ids`` → ``text_embeds``; the last block computes the end-of-text token only."""

    def __init__(self, model: EvaClip):
        super().__init__()
        self.text = model.text

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.text(input_ids, last_block_eot_only=True)
