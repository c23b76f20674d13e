"""The PyTorch EVA-CLIP re-implementation: RoPE, names and shapes, pooling shortcuts, dynamic text length."""

from __future__ import annotations

import math

import pytest
import torch

from eva_lens.checkpoint import expected_shapes
from eva_lens.clip import EvaClip
from eva_lens.config import list_configs, load_config
from eva_lens.rope import apply_rope, rope_tables


def direct_rope(x: torch.Tensor, grid: int, pt_seq_len: int) -> torch.Tensor:
    """RoPE written straight from the formula (eva-clip-facts.md §3), one token and one pair at a time."""
    out = x.clone()
    head_dim = x.shape[-1]
    quarter = head_dim // 4
    for token in range(grid * grid):
        r, c = divmod(token, grid)
        for k in range(head_dim // 2):
            axis_pos = r if k < quarter else c
            p = k % quarter
            theta = (axis_pos / grid * pt_seq_len) * 10000 ** (-p / quarter)
            a, b = x[..., token, 2 * k], x[..., token, 2 * k + 1]
            out[..., token, 2 * k] = a * math.cos(theta) - b * math.sin(theta)
            out[..., token, 2 * k + 1] = b * math.cos(theta) + a * math.sin(theta)
    return out


@pytest.mark.parametrize("grid,pt", [(14, 16), (6, 6), (24, 16)])
def test_rope_matches_direct_formula(grid: int, pt: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 2, grid * grid, 64, dtype=torch.float64)
    cos, sin = rope_tables(grid, 64, pt)
    got = apply_rope(x, cos.double(), sin.double())
    assert torch.allclose(got, direct_rope(x, grid, pt), atol=1e-5)


def test_rope_tables_shape_and_cls_untouched() -> None:
    cos, sin = rope_tables(14, 64, 16)
    assert cos.shape == sin.shape == (196, 64)
    assert torch.all(cos[0] == 1) and torch.all(sin[0] == 0)  # position (0, 0): identity


@pytest.mark.parametrize("arch", list_configs())
def test_state_dict_names_and_shapes_are_the_official_ones(arch: str) -> None:
    cfg = load_config(arch)
    if cfg.vision.width > 768:
        pytest.skip("L/14 shapes are covered by test_checkpoint's slow tests; building it here costs 1.7 GB")
    model = EvaClip(cfg)
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == expected_shapes(cfg)


def test_b16_parameter_count() -> None:
    model = EvaClip(load_config("EVA02-CLIP-B-16"))
    assert sum(p.numel() for p in model.parameters()) == 149_691_137


def _perturbed(arch: str, seed: int = 0) -> EvaClip:
    """Random init plus noise on the 1-D parameters so that biases and norms are not trivially 0/1."""
    torch.manual_seed(seed)
    model = EvaClip(load_config(arch)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return model


def test_class_token_shortcut_is_exact() -> None:
    model = _perturbed("EVA-Lens-demo")
    x = torch.randn(3, 3, 48, 48)
    with torch.no_grad():
        full, short = model.visual(x), model.visual(x, last_block_cls_only=True)
    assert torch.allclose(full, short, atol=1e-5)


def _ids(rows: list[list[int]], seq: int) -> torch.Tensor:
    out = torch.zeros(len(rows), seq, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
    return out


PROMPTS = [[49406, 320, 1125, 539, 320, 2368, 269, 49407], [49406, 736, 49407], [49406, 320, 736, 1565, 49407]]


def test_padding_after_eot_cannot_change_the_embedding() -> None:
    """Causal mask: tokens up to EOT never see what follows, so any padding length gives the same embedding."""
    model = _perturbed("EVA-Lens-demo")
    with torch.no_grad():
        reference = model.encode_text(_ids(PROMPTS, 77))
        for seq in (8, 9, 20, 76):
            assert torch.allclose(model.encode_text(_ids(PROMPTS, seq)), reference, atol=1e-5)
        # Garbage (not zeros) after EOT changes nothing either.
        noisy = _ids(PROMPTS, 30)
        for i, p in enumerate(PROMPTS):
            noisy[i, len(p) :] = torch.randint(1, 49000, (30 - len(p),))
        assert torch.allclose(model.encode_text(noisy), reference, atol=1e-5)
        # Each prompt alone, unpadded, equals its row in the batch.
        for i, p in enumerate(PROMPTS):
            assert torch.allclose(model.encode_text(_ids([p], len(p)))[0], reference[i], atol=1e-5)


def test_eot_shortcut_is_exact() -> None:
    model = _perturbed("EVA-Lens-demo")
    ids = _ids(PROMPTS, 12)
    with torch.no_grad():
        assert torch.allclose(model.text(ids), model.text(ids, last_block_eot_only=True), atol=1e-5)


def test_logit_scale_init_and_forward() -> None:
    model = _perturbed("EVA-Lens-demo")
    assert model.logit_scale.shape == ()
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 48, 48), _ids(PROMPTS, 8))
    assert logits.shape == (2, 3)
    assert float(logits.abs().max()) <= float(model.logit_scale.exp()) + 1e-4
