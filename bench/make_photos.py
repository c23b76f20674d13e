"""Phone-size JPEGs for the real-photo bench case, generated deterministically (fixed seeds, no downloads).

A flat or smooth picture would decode much faster than a photo (JPEG decoding cost follows the entropy-coded
data), so each picture is several octaves of smooth random structure, a few hard-edged shapes and sensor-like grain,
saved as a phone saves it: quality 90, 4:2:0 chroma subsampling, and an EXIF orientation tag, mostly 6 (the pixels
are stored landscape and shown rotated 90° clockwise, as a phone held upright writes them) and also 1, 3 and 8 (the
other turns a phone writes), which the app must apply.

Usage: node scripts/python.mjs bench/make_photos.py OUT_DIR
→ prints a JSON list of {file, label, width, height, bytes, orientation} (width/height as displayed, after
orientation). Files that already exist with the same version are reused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

VERSION = 1
# (label, stored width, stored height, (seed, EXIF orientation) per photo): 12 MP = 4032 × 3024 (most phones),
# 24 MP = 6000 × 4000. Orientation 6 = turn 90° clockwise to display, 8 = 270°, 3 = 180°, 1 = as stored.
PHOTOS = (
    ("12 MP", 4032, 3024, ((1, 6), (2, 6), (3, 1), (4, 6), (5, 3), (6, 6), (7, 8), (8, 6))),
    ("24 MP", 6000, 4000, ((11, 6), (12, 8), (13, 6), (14, 3))),
)


def octave(rng: np.random.Generator, width: int, height: int, cells: int) -> np.ndarray:
    """Random colours on a coarse grid of `cells` columns, bicubic-enlarged to the picture: float32 [H, W, 3]."""
    grid_w = cells
    grid_h = max(2, round(cells * height / width))
    grid = rng.integers(0, 256, size=(grid_h, grid_w, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(grid, "RGB").resize((width, height), Image.BICUBIC), dtype=np.float32)


def make_photo(width: int, height: int, seed: int) -> Image.Image:
    """One photo-like RGB picture of `width × height`."""
    rng = np.random.default_rng(seed)
    picture = np.zeros((height, width, 3), dtype=np.float32)
    for cells, weight in ((4, 0.45), (16, 0.25), (64, 0.15), (256, 0.1), (1024, 0.05)):
        picture += weight * octave(rng, width, height, cells)
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # hard edges: objects, windows, text-like bars
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(width // 50, width // 5)), y0 + int(rng.integers(height // 50, height // 5))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    grain = rng.normal(0, 4, size=(height, width, 1)).astype(np.float32)  # luminance grain, like a phone sensor
    noisy = np.asarray(image, dtype=np.float32) + grain
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    listing = []
    for label, width, height, seeds in PHOTOS:
        for seed, orientation in seeds:
            path = out_dir / f"photo-v{VERSION}-{width}x{height}-{seed}-o{orientation}.jpg"
            if not path.exists():
                exif = Image.Exif()
                exif[0x0112] = orientation
                partial = path.with_suffix(".partial")
                make_photo(width, height, seed).save(partial, "JPEG", quality=90, subsampling=2, exif=exif.tobytes())
                partial.rename(path)
            turned = orientation in (6, 8)  # a quarter turn swaps the sides on display
            listing.append(
                {
                    "file": path.name,
                    "label": label,
                    "width": height if turned else width,
                    "height": width if turned else height,
                    "bytes": path.stat().st_size,
                    "orientation": orientation,
                }
            )
    json.dump(listing, sys.stdout)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
