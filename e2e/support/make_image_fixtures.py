"""Writes the awkward and hostile image files of e2e/bad-images.spec.ts into a folder (issue #7, part 1).

Made at test time from the committed demo samples, so no binary fixture is committed:
    node scripts/python.mjs e2e/support/make_image_fixtures.py <out-dir>
Prints the list of files written (one per line). Needs Pillow (Debian's python3-pil) and, for the AVIF file,
`avifenc` (Debian's libavif-bin; scripts/system-deps.sh installs it), since Debian's Pillow 9.4 cannot write AVIF.
"""

import io
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from PIL import Image

SAMPLES = Path(__file__).resolve().parents[2] / "public" / "samples"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, raw_rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw_rows, 9))
        + png_chunk(b"IEND", b"")
    )


def sixteen_bit_png(image: Image.Image) -> bytes:
    """RGB with 16 bits per channel (Pillow cannot write it): each 8-bit value v becomes v * 257."""
    rgb = image.convert("RGB")
    rows = bytearray()
    for y in range(rgb.height):
        rows.append(0)  # Filter type: none.
        for x in range(rgb.width):
            for value in rgb.getpixel((x, y)):
                rows += struct.pack(">H", value * 257)
    return png_bytes(rgb.width, rgb.height, 16, 2, bytes(rows))


def bomb_png() -> bytes:
    """A decompression bomb's header: 30000 x 30000 RGB claimed, one tiny IDAT (the decoder must never start)."""
    return png_bytes(30000, 30000, 8, 2, b"\x00" * 64)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def exif_rotated_jpeg(image: Image.Image) -> bytes:
    """Stored turned a quarter to the left with EXIF Orientation 6 ("rotate 90° clockwise to view"), so it is upright
    only when the reader applies EXIF."""
    stored = image.convert("RGB").rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(stored, "JPEG", quality=95, exif=exif.tobytes())


def avif_bytes(image: Image.Image) -> bytes:
    """AVIF through libavif's command-line encoder, at near-lossless quality so the picture stays the sample's."""
    encoder = shutil.which("avifenc")
    if encoder is None:
        raise SystemExit("avifenc is missing: install Debian's libavif-bin (bash scripts/system-deps.sh does)")
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.png", Path(tmp) / "out.avif"
        image.convert("RGB").save(source)
        subprocess.run(
            [encoder, "--speed", "8", "--min", "0", "--max", "8", str(source), str(target)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return target.read_bytes()


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    red = Image.open(SAMPLES / "red-star.png").convert("RGBA")
    blue = Image.open(SAMPLES / "blue-star.png").convert("RGBA")
    # A landscape canvas, so a missed EXIF rotation would change the picture's shape, not only its angle.
    wide = Image.new("RGBA", (red.width + 16, red.height), (255, 255, 255, 255))
    wide.paste(red, (8, 0))
    jpeg = encoded(red.convert("RGB"), "JPEG", quality=95)
    png = encoded(red, "PNG")
    transparent = red.copy()
    transparent.putdata([(r, g, b, 0 if (r, g, b) == red.getpixel((0, 0))[:3] else a) for r, g, b, a in red.getdata()])
    heic = struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic" + b"\x00" * 64
    files = {
        "zero-bytes.png": b"",
        "truncated.jpg": jpeg[: len(jpeg) // 2],
        "truncated.png": png[: len(png) // 2],
        "notes-named.jpg": b"These are my notes, not a photo.\n" * 20,
        "scan-named.jpg": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        "photo.heic": heic,
        "animated.gif": encoded(
            red.convert("RGB"), "GIF", save_all=True, append_images=[blue.convert("RGB")], duration=200, loop=0
        ),
        "cmyk.jpg": encoded(red.convert("RGB").convert("CMYK"), "JPEG", quality=95),
        "sixteen-bit.png": sixteen_bit_png(red),
        "transparent.png": encoded(transparent, "PNG"),
        "exif-rotated.jpg": exif_rotated_jpeg(wide),
        "one-pixel.png": encoded(Image.new("RGB", (1, 1), (220, 30, 30)), "PNG"),
        "tall-strip.png": encoded(Image.new("RGB", (1, 10000), (220, 30, 30)), "PNG"),
        "bomb.png": bomb_png(),
        "red-star.webp": encoded(red.convert("RGB"), "WEBP", quality=95),
        "red-star.avif": avif_bytes(red),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(name)


if __name__ == "__main__":
    main(sys.argv[1])
