"""Train the embedded demo model: a scaled-down EVA-CLIP on synthetic coloured shapes, on CPU, deterministically.

Contrastive (CLIP) training with multi-positive targets: a caption is a positive for every image in the batch whose
colour and shape it names ("a star" matches every star), so repeated captions are not punished as negatives.
Text goes through the real CLIP BPE tokenizer, padded only to the batch's longest caption.

Evaluation is zero-shot top-1 among all 48 "a {colour} {shape}" prompts, on fresh renders of the trained combinations
and of the combinations held out of training entirely.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .clip import EvaClip
from .config import ClipConfig, load_config
from .synthetic import ALL_COMBOS, HELD_OUT, TRAIN_COMBOS, combo_prompt, normalise, render, sample_caption
from .tokenizer import ClipBpeReference


@dataclass
class TrainSettings:
    arch: str = "EVA-Lens-demo"
    steps: int = 1500
    batch_size: int = 192
    lr: float = 2e-3
    min_lr: float = 5e-5
    warmup_steps: int = 100
    weight_decay: float = 0.05
    seed: int = 1234
    eval_every: int = 250
    eval_per_combo: int = 20
    torch_threads: int = 1


def pad_batch(token_lists: list[list[int]]) -> torch.Tensor:
    """Zero-pad to the longest list: [B, S] int64."""
    seq = max(len(t) for t in token_lists)
    out = torch.zeros(len(token_lists), seq, dtype=torch.long)
    for i, t in enumerate(token_lists):
        out[i, : len(t)] = torch.tensor(t)
    return out


class CaptionTokens:
    """Caches the BPE ids of the (few hundred) distinct captions."""

    def __init__(self) -> None:
        self.bpe = ClipBpeReference()
        self.cache: dict[str, list[int]] = {}

    def __call__(self, texts: list[str]) -> torch.Tensor:
        for t in texts:
            if t not in self.cache:
                self.cache[t] = self.bpe.encode(t)
        return pad_batch([self.cache[t] for t in texts])


def make_batch(rng: np.random.Generator, cfg: ClipConfig, tokens: CaptionTokens, n: int):
    combos = [TRAIN_COMBOS[i] for i in rng.integers(len(TRAIN_COMBOS), size=n)]
    images = np.stack([normalise(render(rng, c, s, cfg.vision.image_size), cfg.mean, cfg.std) for c, s in combos])
    captions = [sample_caption(rng, c, s) for c, s in combos]
    # targets[i, j] = 1 when caption j describes image i.
    targets = torch.tensor([[float(cap.matches(c, s)) for cap in captions] for c, s in combos])
    return torch.from_numpy(images), tokens([c.text for c in captions]), targets


def contrastive_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy against row-normalised multi-positive targets. ``logits`` [B_img, B_txt]."""
    img_to_txt = -(targets / targets.sum(1, keepdim=True) * F.log_softmax(logits, dim=1)).sum(1).mean()
    txt_to_img = -(targets.t() / targets.t().sum(1, keepdim=True) * F.log_softmax(logits.t(), dim=1)).sum(1).mean()
    return (img_to_txt + txt_to_img) / 2


@torch.no_grad()
def zero_shot_eval(model: EvaClip, tokens: CaptionTokens, per_combo: int, seed: int) -> dict:
    """Top-1 among all 48 combination prompts, on fresh renders; split into trained and held-out combinations."""
    model.eval()
    cfg = model.config
    text = model.encode_text(tokens([combo_prompt(c, s) for c, s in ALL_COMBOS]), normalize=True)
    rng = np.random.default_rng(seed)
    correct = {"trained": 0, "held_out": 0}
    total = {"trained": 0, "held_out": 0}
    for label, (c, s) in enumerate(ALL_COMBOS):
        imgs = np.stack(
            [normalise(render(rng, c, s, cfg.vision.image_size), cfg.mean, cfg.std) for _ in range(per_combo)]
        )
        pred = (model.encode_image(torch.from_numpy(imgs), normalize=True) @ text.t()).argmax(1)
        split = "held_out" if (c, s) in HELD_OUT else "trained"
        correct[split] += int((pred == label).sum())
        total[split] += per_combo
    model.train()
    return {k: correct[k] / total[k] for k in correct} | {
        "n_trained": total["trained"],
        "n_held_out": total["held_out"],
    }


def param_groups(model: EvaClip, weight_decay: float) -> list[dict]:
    """No weight decay on norms, biases, embeddings and the logit scale."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        skip = p.ndim < 2 or "embedding" in name or "pos_embed" in name or "cls_token" in name
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, s: TrainSettings) -> float:
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps)
    return s.min_lr + 0.5 * (s.lr - s.min_lr) * (1 + math.cos(math.pi * progress))


def train(s: TrainSettings, out_dir: Path, log=print) -> tuple[EvaClip, dict]:
    torch.manual_seed(s.seed)
    torch.set_num_threads(s.torch_threads)
    rng = np.random.default_rng(s.seed)
    cfg = load_config(s.arch)
    model = EvaClip(cfg)
    tokens = CaptionTokens()
    opt = torch.optim.AdamW(param_groups(model, s.weight_decay), lr=s.lr, betas=(0.9, 0.98), eps=1e-6)
    history = []
    started = time.time()
    for step in range(s.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, s)
        images, ids, targets = make_batch(rng, cfg, tokens, s.batch_size)
        loss = contrastive_loss(model(images, ids), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))  # as EVA-CLIP training does
        if step % 25 == 0:
            log(
                f"step {step} loss {loss.item():.4f} scale {model.logit_scale.exp().item():.1f}"
                f" {time.time() - started:.0f}s"
            )
        if (step + 1) % s.eval_every == 0 or step + 1 == s.steps:
            acc = zero_shot_eval(model, tokens, s.eval_per_combo, seed=999)
            history.append({"step": step + 1, "seconds": round(time.time() - started, 1), **acc})
            log(f"eval {history[-1]}")
    model.eval()
    final = zero_shot_eval(model, tokens, per_combo=50, seed=4242)  # larger, separate seed for the report
    report = {
        "settings": asdict(s),
        "train_seconds": round(time.time() - started, 1),
        "torch_threads": s.torch_threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "zero_shot_top1_trained_combinations": final["trained"],
        "zero_shot_top1_held_out_combinations": final["held_out"],
        "eval_images": {"trained": final["n_trained"], "held_out": final["n_held_out"]},
        "prompts": len(ALL_COMBOS),
        "held_out_combinations": sorted(combo_prompt(c, s_) for c, s_ in HELD_OUT),
        "history": history,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out_dir / "demo_model.pt")
    (out_dir / "train_report.json").write_text(json.dumps(report, indent=2))
    return model, report
