"""The demo model's manifest says which words it knows, and the committed manifest says what the toolchain writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from eva_lens.config import load_config
from eva_lens.demo import ARCH, demo_vocabulary
from eva_lens.manifest import build_manifest
from eva_lens.synthetic import COLOURS, SHAPES, sample_caption

COMMITTED = Path(__file__).resolve().parents[2] / "public/models/eva-lens-demo/manifest.json"


def test_vocabulary_is_the_training_data() -> None:
    vocabulary = demo_vocabulary()
    assert vocabulary["groups"] == [
        {"name": "colours", "words": list(COLOURS)},
        {"name": "shapes", "words": list(SHAPES)},
    ]
    # Every word of every training caption is either a colour, a shape or one of the other words.
    known = set(vocabulary["otherWords"]) | set(COLOURS) | set(SHAPES)
    rng = np.random.default_rng(0)
    words = {w for _ in range(2000) for w in sample_caption(rng, "red", "star").text.replace(".", "").split()}
    assert words <= known
    assert set(vocabulary["otherWords"]) <= words | {"red", "star"}


def test_build_manifest_writes_the_vocabulary_where_the_committed_manifest_has_it(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{}")
    manifest = build_manifest(**_args(tmp_path), vocabulary=demo_vocabulary())
    committed = json.loads(COMMITTED.read_text())
    assert committed["vocabulary"] == manifest["vocabulary"]
    assert list(committed) == [*manifest]
    assert "vocabulary" not in build_manifest(**_args(tmp_path))


def _args(tmp_path: Path) -> dict:
    return dict(
        config=load_config(ARCH),
        model_id="eva-lens-demo",
        name="n",
        description="d",
        license="l",
        source="s",
        logit_scale=1.0,
        out_dir=tmp_path,
        variants=[],
        probe_image_embedding=np.zeros(2),
        probe_text_embedding=np.zeros(2),
    )
