"""Reference image preprocessing for EVA-CLIP, and the fixtures the TypeScript port is checked against.

EVA-CLIP's eval transform (``eva_clip/transform.py::image_transform``) is torchvision's
``Resize(size, BICUBIC) → CenterCrop(size) → convert('RGB') → ToTensor() → Normalize(mean, std)`` on a PIL image.
torchvision is not installed here, so its semantics are written out below; they are simple and exact:

* ``Resize(size)`` scales the shortest side to ``size``; the long side becomes ``int(size * long / short)``
  (truncated), and PIL's ``Image.resize(..., BICUBIC)`` does the resampling (antialiased when shrinking).
* ``CenterCrop(size)`` takes the box at ``int(round((h - size) / 2))`` (Python's ``round``: half to even).
* ``ToTensor`` divides the uint8 values by 255 in float32; ``Normalize`` subtracts the float32 mean and divides by
  the float32 std, per channel. The result is float32 ``[3, size, size]``.

Two choices the browser forces, made the same way here so that both sides agree:

* **Alpha is composited on white** (EVA-CLIP's ``convert('RGB')`` would drop alpha and show the colour under fully
  transparent pixels, usually black or garbage; a PNG with a transparent background looks white in the browser).
  ``out = (c * a + 255 * (255 - a) + 127) // 255`` in integers, per channel.
* **EXIF orientation is applied** (``ImageOps.exif_transpose``), as ``createImageBitmap(..., {imageOrientation:
  'from-image'})`` does in the app, so the model sees the picture the user sees.

``reducing_gap`` mirrors the app's fast path for large images: PIL's own ``resize(..., reducing_gap=3.0)`` first
shrinks by an integer factor with a box filter (``Image.reduce``) whenever the image is at least 6x the target,
then finishes with bicubic. It is not the EVA-CLIP reference (``reducing_gap=None``); the fixtures keep both so the
TypeScript test can check each exactly and measure the gap between them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageOps

from .config import CLIP_MEAN, CLIP_STD

# Real photos for the parity fixtures, kept in the repository (data/photos/README.md).
DEFAULT_IMAGES_DIR = Path(__file__).resolve().parents[2] / "data" / "photos"
DEFAULT_FIXTURES_DIR = Path(__file__).resolve().parent.parent / ".artifacts" / "preprocess"
FIXTURE_SIZES = (64, 224)
# The app's fast path shrinks with Image.reduce when the image is at least this many times the target.
APP_REDUCING_GAP = 3.0
FIXTURES_VERSION = 3


def composite_on_white(image: Image.Image) -> Image.Image:
    """RGB version of ``image``; transparent pixels are blended onto white with integer rounding.

    Args:
        image: any PIL mode (RGB, RGBA, L, LA, P with or without transparency, ...).

    Returns:
        An 8-bit RGB image.
    """
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    rgba = np.asarray(image.convert("RGBA"), dtype=np.int32)  # [H, W, 4]
    alpha = rgba[..., 3:4]  # [H, W, 1]
    rgb = (rgba[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255  # [H, W, 3]
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def load_image(path: Path) -> Image.Image:
    """Opens an image file with its EXIF orientation applied, in the file's own mode (alpha kept)."""
    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image)


def resized_size(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision ``Resize(size)``: the shortest side becomes ``size``, the long side ``int(size * long / short)``."""
    if width <= height:
        return size, int(size * height / width)
    return int(size * width / height), size


def center_crop_offsets(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision ``CenterCrop``: (left, top) = ``int(round((w - size) / 2))``, with Python's half-to-even round."""
    return int(round((width - size) / 2.0)), int(round((height - size) / 2.0))


def reduce_factors(width: int, height: int, out_width: int, out_height: int, gap: float) -> tuple[int, int]:
    """The integer shrink PIL's ``resize(reducing_gap=gap)`` applies first on each axis (1 = none)."""
    return int(width / out_width / gap) or 1, int(height / out_height / gap) or 1


def normalize(rgb: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """torchvision ``ToTensor`` + ``Normalize`` in float32.

    Args:
        rgb: uint8 ``[H, W, 3]``.

    Returns:
        float32 ``[3, H, W]``.
    """
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1)).astype(np.float32) / np.float32(255)  # [3, H, W]
    mean32 = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    std32 = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    return ((chw - mean32) / std32).astype(np.float32)


def preprocess(
    image: Image.Image,
    size: int,
    mean: Sequence[float] = CLIP_MEAN,
    std: Sequence[float] = CLIP_STD,
    reducing_gap: float | None = None,
) -> np.ndarray:
    """EVA-CLIP eval preprocessing of one PIL image.

    Args:
        image: a decoded image in any mode (already EXIF-transposed, see ``load_image``).
        size: square side of the model input.
        reducing_gap: ``None`` for the reference; ``APP_REDUCING_GAP`` for the app's fast path on large images.

    Returns:
        float32 ``[3, size, size]``.
    """
    rgb = composite_on_white(image)
    out_width, out_height = resized_size(rgb.width, rgb.height, size)
    resized = rgb.resize((out_width, out_height), Image.BICUBIC, reducing_gap=reducing_gap)
    left, top = center_crop_offsets(out_width, out_height, size)
    cropped = resized.crop((left, top, left + size, top + size))
    return normalize(np.asarray(cropped, dtype=np.uint8), mean, std)


def preprocess_file(path: Path, size: int, reducing_gap: float | None = None) -> np.ndarray:
    """``preprocess(load_image(path), size)`` with the CLIP mean and std: float32 ``[3, size, size]``."""
    return preprocess(load_image(path), size, reducing_gap=reducing_gap)


def write_synthetic_pngs(out_dir: Path) -> list[Path]:
    """Small PNGs that exercise the corners of decoding and resizing: 1x1, 1x300, 300x1, RGBA, L, LA, palette with
    transparency, a 4-bit palette, and a large noisy image for the reduce fast path. Deterministic."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(1234)
    ramp = np.arange(300, dtype=np.int32)
    images: dict[str, Image.Image] = {
        "synthetic-1x1.png": Image.new("RGB", (1, 1), (200, 30, 90)),
        "synthetic-1x300.png": Image.fromarray(
            np.stack([ramp % 256, (ramp * 7) % 256, 255 - ramp % 256], -1)[:, None, :].astype(np.uint8), "RGB"
        ),
        "synthetic-300x1.png": Image.fromarray(
            np.stack([(ramp * 3) % 256, ramp % 256, (ramp * 11) % 256], -1)[None, :, :].astype(np.uint8), "RGB"
        ),
        "synthetic-rgba.png": Image.fromarray(rng.randint(0, 256, (61, 97, 4)).astype(np.uint8), "RGBA"),
        "synthetic-gray.png": Image.fromarray(rng.randint(0, 256, (70, 130)).astype(np.uint8), "L"),
        "synthetic-gray-alpha.png": Image.fromarray(rng.randint(0, 256, (50, 40, 2)).astype(np.uint8), "LA"),
    }
    palette = Image.fromarray(rng.randint(0, 200, (40, 50)).astype(np.uint8), "P")
    palette.putpalette(rng.randint(0, 256, 200 * 3).astype(np.uint8).tolist())
    small_palette = Image.fromarray(rng.randint(0, 12, (33, 45)).astype(np.uint8), "P")
    small_palette.putpalette(rng.randint(0, 256, 12 * 3).astype(np.uint8).tolist())
    yy, xx = np.mgrid[0:700, 0:1000]
    smooth = 127 + 80 * np.sin(xx / 37.0)[..., None] * np.cos(yy / 23.0)[..., None] * np.array([1.0, 0.6, -0.8])
    large = np.clip(smooth + rng.normal(0, 25, (700, 1000, 3)), 0, 255).astype(np.uint8)  # [700, 1000, 3]
    images["synthetic-large.png"] = Image.fromarray(large, "RGB")
    paths = []
    for name, image in images.items():
        path = out_dir / name
        image.save(path)
        paths.append(path)
    palette.save(out_dir / "synthetic-palette.png", transparency=7)
    small_palette.save(out_dir / "synthetic-palette-4bit.png", bits=4)
    paths += [out_dir / "synthetic-palette.png", out_dir / "synthetic-palette-4bit.png"]
    return paths


def write_preprocess_fixtures(
    out_dir: Path = DEFAULT_FIXTURES_DIR,
    images_dir: Path | None = DEFAULT_IMAGES_DIR,
    sizes: Sequence[int] = FIXTURE_SIZES,
) -> Path:
    """Writes reference tensors for every image in ``images_dir`` plus the synthetic PNGs.

    Layout of ``out_dir``: ``index.json``; ``synthetic/*.png``; ``rgba/<image>.rgba`` (the decoded, EXIF-transposed
    RGBA bytes PIL saw, ``[H, W, 4]`` uint8, so a test can skip decoding, e.g. for JPEG); and per image and size
    ``<image>.<size>.exact.f32`` (the reference) and, when the app's fast path applies, ``<image>.<size>.reduced.f32``
    (``reducing_gap=3.0``), both raw little-endian float32 ``[3, size, size]``.

    Returns:
        The path of ``index.json``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "rgba").mkdir(exist_ok=True)
    sources = write_synthetic_pngs(out_dir / "synthetic")
    if images_dir is not None and images_dir.is_dir():
        sources += sorted(p for p in images_dir.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    entries = []
    for source in sources:
        image = load_image(source)
        rgba_name = f"rgba/{source.name}.rgba"
        np.asarray(image.convert("RGBA"), dtype=np.uint8).tofile(out_dir / rgba_name)
        for size in sizes:
            out_w, out_h = resized_size(image.width, image.height, size)
            factors = reduce_factors(image.width, image.height, out_w, out_h, APP_REDUCING_GAP)
            exact_name = f"{source.name}.{size}.exact.f32"
            preprocess(image, size).astype("<f4").tofile(out_dir / exact_name)
            reduced_name = None
            if factors != (1, 1):
                reduced_name = f"{source.name}.{size}.reduced.f32"
                preprocess(image, size, reducing_gap=APP_REDUCING_GAP).astype("<f4").tofile(out_dir / reduced_name)
            entries.append(
                {
                    "image": source.name,
                    "source": str(source.resolve()),
                    "format": "png" if source.suffix.lower() == ".png" else "jpeg",
                    "mode": image.mode,
                    "width": image.width,
                    "height": image.height,
                    "size": size,
                    "rgba": rgba_name,
                    "exact": exact_name,
                    "reduced": reduced_name,
                    "reduceFactors": list(factors) if reduced_name else None,
                }
            )
    index = {
        "version": FIXTURES_VERSION,
        "mean": list(CLIP_MEAN),
        "std": list(CLIP_STD),
        "reducingGap": APP_REDUCING_GAP,
        "entries": entries,
    }
    index_path = out_dir / "index.json"
    index_path.write_text(json.dumps(index, indent=1))
    return index_path


def fixtures_cli(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``python -m eva_lens.preprocess [--out DIR] [--images DIR]`` writes the fixtures."""
    parser = argparse.ArgumentParser(description="Write preprocessing reference fixtures for the TypeScript tests.")
    parser.add_argument("--out", type=Path, default=DEFAULT_FIXTURES_DIR, help="output folder (git-ignored)")
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES_DIR, help="folder of sample images")
    args = parser.parse_args(argv)
    print(write_preprocess_fixtures(args.out, args.images))
    return 0


if __name__ == "__main__":
    raise SystemExit(fixtures_cli())
