"""The embedded demo model: train it, package it, render its sample images and write the references the app's tests
compare against (PyTorch embeddings and top-1 for each sample, per dtype as onnxruntime-web gives them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .clip import EvaClip
from .config import load_config
from .ort_node import run_onnx_sets
from .package import PackageInfo, build_package
from .preprocess import preprocess_file
from .synthetic import (
    _COLOUR_TEMPLATES,
    _FULL_TEMPLATES,
    _SHAPE_TEMPLATES,
    ALL_COMBOS,
    COLOURS,
    HELD_OUT,
    SHAPES,
    render,
)
from .tokenizer import ClipBpeReference
from .train_demo import TrainSettings, pad_batch, train

ARCH = "EVA-Lens-demo"
DEMO_DTYPES = ["int8", "q4"]  # fp32 (32 MB) and fp16 do not fit the 25 MB budget for committed files
SAMPLE_TEMPLATE = "a photo of a {}."
SAMPLE_SIZE = 192  # rendered larger than the model input so the app's resize path is exercised
REFERENCE_PATH = Path("e2e/fixtures/demo-reference.json")


def demo_vocabulary() -> dict:
    """The manifest's ``vocabulary``: the words the demo model was trained on, from the training data itself.

    ``groups`` are the kinds of thing it tells apart (8 colours, 6 shapes); ``otherWords`` the remaining words of its
    training captions ("a photo of a …", "something …"), which carry no meaning of their own; ``notFor`` what a person
    might expect it to do and it cannot. The app marks a label with any other word as one the model cannot know.
    """
    templates = _FULL_TEMPLATES + _COLOUR_TEMPLATES + _SHAPE_TEMPLATES
    filler = {w for t in templates for w in re.findall(r"[a-z]+", t.replace("{c}", "").replace("{s}", ""))}
    return {
        "groups": [{"name": "colours", "words": list(COLOURS)}, {"name": "shapes", "words": list(SHAPES)}],
        "otherWords": sorted(filler),
        "notFor": "photos",
    }


def sample_combos(n_trained: int = 16, seed: int = 7) -> list[tuple[str, str]]:
    """All held-out combinations plus a fixed draw of trained ones."""
    rng = np.random.default_rng(seed)
    trained = [cs for cs in ALL_COMBOS if cs not in HELD_OUT]
    picked = [trained[i] for i in sorted(rng.choice(len(trained), n_trained, replace=False))]
    return sorted(HELD_OUT) + picked


def render_samples(samples_dir: Path, seed: int = 2024) -> list[dict]:
    """Write the sample PNGs and ``samples.json`` (file, label, whether the combination was held out of training)."""
    samples_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries = []
    for colour, shape in sample_combos():
        name = f"{colour}-{shape}.png"
        render(rng, colour, shape, size=SAMPLE_SIZE, supersample=2).save(samples_dir / name, optimize=True)
        entries.append({"file": name, "label": f"{colour} {shape}", "heldOut": (colour, shape) in HELD_OUT})
    (samples_dir / "samples.json").write_text(json.dumps(entries, indent=1) + "\n")
    return entries


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def write_references(model: EvaClip, model_dir: Path, samples_dir: Path, entries: list[dict], out: Path) -> dict:
    """PyTorch fp32 and onnxruntime-web (per dtype) embeddings and top-1 for every sample image and label."""
    cfg = model.config
    labels = [e["label"] for e in entries]
    prompts = [SAMPLE_TEMPLATE.format(label) for label in labels]
    bpe = ClipBpeReference()
    ids = pad_batch([bpe.encode(p) for p in prompts])
    pixels = np.stack([preprocess_file(samples_dir / e["file"], cfg.vision.image_size) for e in entries])
    with torch.no_grad():
        img = F.normalize(model.encode_image(torch.from_numpy(pixels)), dim=-1).numpy()
        txt = F.normalize(model.encode_text(ids), dim=-1).numpy()
    scale = float(model.logit_scale.exp())
    truth = np.arange(len(entries))

    def summarise(image_emb: np.ndarray, text_emb: np.ndarray) -> dict:
        top1 = (image_emb @ text_emb.T).argmax(1)
        return {"top1": top1.tolist(), "accuracy": float((top1 == truth).mean())}

    ref: dict = {
        "modelId": json.loads((model_dir / "manifest.json").read_text())["id"],
        "template": SAMPLE_TEMPLATE,
        "labels": labels,
        "files": [e["file"] for e in entries],
        "logitScale": scale,
        "pytorch": {
            **summarise(img, txt),
            "imageEmbeddings": img.round(7).tolist(),
            "textEmbeddings": txt.round(7).tolist(),
            "inputIds": ids.tolist(),
        },
        "onnx": {},
    }
    for dtype in DEMO_DTYPES:
        ort_img = run_onnx_sets(model_dir / f"image.{dtype}.onnx", [{"pixel_values": pixels}]).outputs[0][
            "image_embeds"
        ]
        ort_txt = run_onnx_sets(model_dir / f"text.{dtype}.onnx", [{"input_ids": ids.numpy()}]).outputs[0][
            "text_embeds"
        ]
        ort_img, ort_txt = _normalised(ort_img), _normalised(ort_txt)
        ref["onnx"][dtype] = {
            **summarise(ort_img, ort_txt),
            "minImageCosine": float((ort_img * img).sum(1).min()),
            "minTextCosine": float((ort_txt * txt).sum(1).min()),
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(ref) + "\n")
    return ref


def package_demo(weights: Path, model_dir: Path, samples_dir: Path, report: dict | None = None) -> dict:
    model = EvaClip(load_config(ARCH))
    model.load_state_dict(torch.load(weights, map_location="cpu"), strict=True)
    model.eval()
    if report is None:
        report_path = weights.parent / "train_report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
    entries = render_samples(samples_dir)
    metrics = {
        "trainSeconds": report.get("train_seconds", "unknown"),
        "zeroShotTop1TrainedCombinations": report.get("zero_shot_top1_trained_combinations", "unknown"),
        "zeroShotTop1HeldOutCombinations": report.get("zero_shot_top1_held_out_combinations", "unknown"),
        "prompts": len(ALL_COMBOS),
    }
    info = PackageInfo(
        model_id="eva-lens-demo",
        name="EVA Lens demo (coloured shapes)",
        description=(
            "A small EVA-02 CLIP trained by this project on synthetic coloured shapes (8 colours x 6 shapes). "
            "It knows colours and shapes only: try labels like 'red star' or 'blue circle'."
        ),
        license="MIT (weights trained by EVA Lens; CLIP BPE vocabulary MIT, OpenAI)",
        source="models/eva_lens/train_demo.py (npm run models -- train-demo)",
        metrics=metrics,
        vocabulary=demo_vocabulary(),
    )
    for stale in model_dir.glob("*.onnx"):
        stale.unlink()
    build_package(model, model_dir, info, DEMO_DTYPES)
    ref = write_references(model, model_dir, samples_dir, entries, REFERENCE_PATH)
    summary = {"pytorch": ref["pytorch"]["accuracy"], **{d: v["accuracy"] for d, v in ref["onnx"].items()}}
    metrics["sampleAccuracy"] = json.dumps(summary)
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["metrics"] = metrics
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"sample top-1 accuracy: {summary}")
    return summary


def train_and_package(work: Path, model_dir: Path, samples_dir: Path, steps: int) -> dict:
    _, report = train(TrainSettings(steps=steps), work)
    return package_demo(work / "demo_model.pt", model_dir, samples_dir, report)
