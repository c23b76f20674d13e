"""Synthetic training data for the demo model: coloured shapes on varied backgrounds, captioned in words.

Every image shows one shape of one colour, at a random size, position and rotation, on a random grey-toned background
(flat, gradient or noisy) so that colour words refer only to the shape. Captions name the colour and the shape
("a red star"), only the colour ("something red") or only the shape ("a star"); a caption matches every image whose
attributes it names, which is how the contrastive loss counts positives.

A fixed set of colour-shape combinations is held out of training entirely, to measure whether the model composes
"red" and "star" into an embedding it has never been trained on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 30),
    "green": (40, 170, 50),
    "blue": (30, 70, 220),
    "purple": (140, 50, 190),
    "pink": (245, 120, 190),
    "brown": (120, 70, 30),
}
SHAPES = ("circle", "square", "triangle", "star", "cross", "heart")

# One held-out combination per colour, spread over all six shapes (never rendered or captioned in training).
HELD_OUT: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "star"),
        ("orange", "circle"),
        ("yellow", "heart"),
        ("green", "triangle"),
        ("blue", "cross"),
        ("purple", "square"),
        ("pink", "triangle"),
        ("brown", "star"),
    }
)
ALL_COMBOS = [(c, s) for c in COLOURS for s in SHAPES]
TRAIN_COMBOS = [cs for cs in ALL_COMBOS if cs not in HELD_OUT]


def combo_prompt(colour: str, shape: str) -> str:
    """The zero-shot label for a combination, as a person would type it."""
    return f"a {colour} {shape}"


@dataclass(frozen=True)
class Caption:
    text: str
    colour: str | None
    shape: str | None

    def matches(self, colour: str, shape: str) -> bool:
        return (self.colour is None or self.colour == colour) and (self.shape is None or self.shape == shape)


_FULL_TEMPLATES = ("a {c} {s}", "a photo of a {c} {s}.", "a {c} {s} on a grey background", "the {c} {s}", "{c} {s}")
_COLOUR_TEMPLATES = ("something {c}", "a {c} shape", "{c}")
_SHAPE_TEMPLATES = ("a {s}", "a {s} shape", "{s}")


def sample_caption(rng: np.random.Generator, colour: str, shape: str) -> Caption:
    """70% colour and shape, 15% colour only, 15% shape only."""
    u = rng.random()
    if u < 0.7:
        t = _FULL_TEMPLATES[rng.integers(len(_FULL_TEMPLATES))]
        return Caption(t.format(c=colour, s=shape), colour, shape)
    if u < 0.85:
        t = _COLOUR_TEMPLATES[rng.integers(len(_COLOUR_TEMPLATES))]
        return Caption(t.format(c=colour), colour, None)
    t = _SHAPE_TEMPLATES[rng.integers(len(_SHAPE_TEMPLATES))]
    return Caption(t.format(s=shape), None, shape)


def _shape_polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Outline of a shape of radius ``r`` centred on (cx, cy), rotated by ``angle`` radians."""
    if shape == "circle":
        pts = [(math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
    elif shape == "square":
        pts = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    elif shape == "triangle":
        pts = [(math.cos(t), math.sin(t)) for t in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif shape == "star":
        pts = []
        for k in range(10):
            rad = 1.0 if k % 2 == 0 else 0.42
            t = -math.pi / 2 + k * math.pi / 5
            pts.append((rad * math.cos(t), rad * math.sin(t)))
    elif shape == "cross":
        a, b = 0.3, 0.95
        pts = [
            (-a, -b),
            (a, -b),
            (a, -a),
            (b, -a),
            (b, a),
            (a, a),
            (a, b),
            (-a, b),
            (-a, a),
            (-b, a),
            (-b, -a),
            (-a, -a),
        ]
    elif shape == "heart":
        ts = np.linspace(0, 2 * math.pi, 60, endpoint=False)
        pts = [
            (
                16 * math.sin(t) ** 3 / 17,
                -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)) / 17 - 0.1,
            )
            for t in ts
        ]
    else:
        raise ValueError(f"unknown shape {shape}")
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * ca - y * sa), cy + r * (x * sa + y * ca)) for x, y in pts]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A grey-toned background: flat, a gradient or smooth noise, slightly tinted. [size, size, 3] float."""
    base = rng.uniform(60, 235)
    kind = rng.integers(3)
    if kind == 0:
        img = np.full((size, size), base)
    elif kind == 1:
        ramp = np.linspace(-1, 1, size)
        theta = rng.uniform(0, 2 * math.pi)
        img = base + rng.uniform(15, 45) * (np.cos(theta) * ramp[None, :] + np.sin(theta) * ramp[:, None])
    else:
        coarse = rng.normal(0, 1, (6, 6))
        img = base + 25 * np.array(Image.fromarray(coarse.astype(np.float32)).resize((size, size), Image.BICUBIC))
    tint = rng.normal(0, 6, 3)  # low saturation keeps colour words about the shape
    return np.clip(img[..., None] + tint, 0, 255)


def render(rng: np.random.Generator, colour: str, shape: str, size: int = 64, supersample: int = 4) -> Image.Image:
    """Render one image. Drawn at ``supersample`` x resolution and reduced, for antialiased edges."""
    big = size * supersample
    bg = _background(rng, size)
    canvas = Image.fromarray(bg.astype(np.uint8)).resize((big, big), Image.NEAREST)
    r = rng.uniform(0.22, 0.42) * big
    cx = rng.uniform(r * 0.9, big - r * 0.9)
    cy = rng.uniform(r * 0.9, big - r * 0.9)
    jitter = rng.integers(-25, 26, 3)
    fill = tuple(int(np.clip(v + j, 0, 255)) for v, j in zip(COLOURS[colour], jitter))
    ImageDraw.Draw(canvas).polygon(_shape_polygon(shape, cx, cy, r, rng.uniform(0, 2 * math.pi)), fill=fill)
    img = canvas.resize((size, size), Image.BOX)
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    return img


def normalise(img: Image.Image, mean: tuple, std: tuple) -> np.ndarray:
    """PIL RGB image at model size → float32 CHW normalised (same maths as the app's preprocessing)."""
    x = np.asarray(img, dtype=np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return x.transpose(2, 0, 1).copy()
