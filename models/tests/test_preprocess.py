"""Tests of the preprocessing reference (models/eva_lens/preprocess.py); the TypeScript port is checked against its
fixtures in src/engine/image/preprocess.test.ts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eva_lens.config import CLIP_MEAN, CLIP_STD
from eva_lens.preprocess import (
    center_crop_offsets,
    composite_on_white,
    normalize,
    preprocess,
    reduce_factors,
    resized_size,
    write_preprocess_fixtures,
)


def test_resized_size_truncates_the_long_side() -> None:
    assert resized_size(451, 300, 224) == (336, 224)  # 224 * 451 / 300 = 336.75
    assert resized_size(300, 451, 224) == (224, 336)
    assert resized_size(1, 300, 224) == (224, 67200)
    assert resized_size(512, 512, 64) == (64, 64)


def test_center_crop_rounds_half_to_even() -> None:
    assert center_crop_offsets(225, 224, 224) == (0, 0)  # round(0.5) = 0
    assert center_crop_offsets(227, 230, 224) == (2, 3)  # round(1.5) = 2
    assert center_crop_offsets(336, 224, 224) == (56, 0)


def test_composite_on_white() -> None:
    rgba = np.array([[[10, 20, 30, 255], [10, 20, 30, 0], [0, 100, 255, 128]]], dtype=np.uint8)  # [1, 3, 4]
    rgb = np.asarray(composite_on_white(Image.fromarray(rgba, "RGBA")))
    assert rgb.tolist() == [[[10, 20, 30], [255, 255, 255], [127, 177, 255]]]


def test_composite_respects_palette_transparency() -> None:
    image = Image.fromarray(np.array([[0, 1]], dtype=np.uint8), "P")
    image.putpalette([0, 0, 0, 9, 9, 9] + [0] * 762)
    image.info["transparency"] = 0
    assert np.asarray(composite_on_white(image)).tolist() == [[[255, 255, 255], [9, 9, 9]]]


def test_normalize_matches_float32_formula() -> None:
    rgb = np.array([[[255, 0, 51]]], dtype=np.uint8)  # [1, 1, 3]
    out = normalize(rgb, CLIP_MEAN, CLIP_STD)
    assert out.shape == (3, 1, 1) and out.dtype == np.float32
    expected = [
        (np.float32(v) / np.float32(255) - np.float32(m)) / np.float32(s)
        for v, m, s in zip((255, 0, 51), CLIP_MEAN, CLIP_STD)
    ]
    assert out[:, 0, 0].tolist() == [float(np.float32(e)) for e in expected]


def test_preprocess_equals_resize_crop_normalize() -> None:
    rng = np.random.RandomState(0)
    image = Image.fromarray(rng.randint(0, 256, (90, 130, 3)).astype(np.uint8), "RGB")
    out = preprocess(image, 64)
    assert out.shape == (3, 64, 64) and out.dtype == np.float32
    resized = image.resize(resized_size(130, 90, 64), Image.BICUBIC)  # 92 x 64
    left, top = center_crop_offsets(*resized.size, 64)
    manual = normalize(np.asarray(resized.crop((left, top, left + 64, top + 64))), CLIP_MEAN, CLIP_STD)
    np.testing.assert_array_equal(out, manual)


def test_reducing_gap_only_changes_large_images() -> None:
    assert reduce_factors(6000, 4000, 336, 224, 3.0) == (5, 5)
    assert reduce_factors(400, 300, 298, 224, 3.0) == (1, 1)
    rng = np.random.RandomState(1)
    small = Image.fromarray(rng.randint(0, 256, (300, 400, 3)).astype(np.uint8), "RGB")
    np.testing.assert_array_equal(preprocess(small, 224), preprocess(small, 224, reducing_gap=3.0))


def test_fixtures_are_written(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(images / "green.png")
    index_path = write_preprocess_fixtures(tmp_path / "out", images, sizes=(32,))
    index = json.loads(index_path.read_text())
    names = {entry["image"] for entry in index["entries"]}
    assert "green.png" in names and "synthetic-rgba.png" in names
    green = next(e for e in index["entries"] if e["image"] == "green.png")
    assert green["reduceFactors"] == [2, 2]  # int(200 / 32 / 3) and green["reduced"]
    tensor = np.fromfile(tmp_path / "out" / green["exact"], dtype="<f4").reshape(3, 32, 32)
    assert tensor[0, 0, 0] == pytest.approx((10 / 255 - CLIP_MEAN[0]) / CLIP_STD[0], abs=1e-6)
    rgba = np.fromfile(tmp_path / "out" / green["rgba"], dtype=np.uint8)
    assert rgba.size == 300 * 200 * 4
