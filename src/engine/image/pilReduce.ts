/**
 * Pillow's `Image.reduce((fx, fy))` for 8-bit RGB (4 bytes per pixel, the 4th ignored): each output pixel is the rounded mean of an fx×fy block, and the
 * last column/row averages the partial block that is left. Written from Pillow's `src/libImaging/Reduce.c` (9.4):
 * the mean is computed as ((sum + n/2) · m) >> 24 with m = ⌊2³² / (256·n)⌋ evaluated in float32, which is not
 * always the exact rounded mean, so that rounding is reproduced here.
 *
 * The app uses it the way `Image.resize(..., reducing_gap=2)` does: a cheap exact box shrink before bicubic on
 * large images (see preprocess.ts).
 */
import type { RgbaImage } from './rgbImage';

/** Pillow's `division_UINT32(n, 8)`: the fixed-point reciprocal of a block of `n` pixels. */
function blockMultiplier(pixelCount: number): number {
  return Math.trunc(Math.fround(4294967296 / Math.fround(256 * pixelCount)));
}

/**
 * The integer shrink factors Pillow's `resize(reducing_gap=gap)` applies first on each axis (1 = none):
 * `int(in / out / gap) or 1`.
 */
export function reducingFactors(
  inWidth: number,
  inHeight: number,
  outWidth: number,
  outHeight: number,
  gap: number,
): [number, number] {
  return [
    Math.max(1, Math.trunc(inWidth / outWidth / gap)),
    Math.max(1, Math.trunc(inHeight / outHeight / gap)),
  ];
}

/** The image shrunk by (xFactor, yFactor) with Pillow's box reduce: ⌈w/fx⌉ × ⌈h/fy⌉ pixels. */
export function boxReduce(image: RgbaImage, xFactor: number, yFactor: number): RgbaImage {
  const { data, width, height } = image;
  const outWidth = Math.ceil(width / xFactor);
  const outHeight = Math.ceil(height / yFactor);
  const out = new Uint8Array(outWidth * outHeight * 4);
  const columnSums = new Float64Array(outWidth * 3);
  for (let oy = 0; oy < outHeight; oy++) {
    columnSums.fill(0);
    const yStart = oy * yFactor;
    const yEnd = Math.min(yStart + yFactor, height);
    for (let y = yStart; y < yEnd; y++) {
      let i = y * width * 4;
      for (let ox = 0, x = 0; ox < outWidth; ox++) {
        const xEnd = Math.min(x + xFactor, width);
        let r = 0;
        let g = 0;
        let b = 0;
        for (; x < xEnd; x++, i += 4) {
          r += data[i]!;
          g += data[i + 1]!;
          b += data[i + 2]!;
        }
        columnSums[ox * 3] = columnSums[ox * 3]! + r;
        columnSums[ox * 3 + 1] = columnSums[ox * 3 + 1]! + g;
        columnSums[ox * 3 + 2] = columnSums[ox * 3 + 2]! + b;
      }
    }
    const rows = yEnd - yStart;
    for (let ox = 0; ox < outWidth; ox++) {
      const columns = Math.min(xFactor, width - ox * xFactor);
      const count = rows * columns;
      const multiplier = blockMultiplier(count);
      const amend = Math.floor(count / 2);
      const o = (oy * outWidth + ox) * 4;
      for (let c = 0; c < 3; c++) {
        out[o + c] = Math.floor(((columnSums[ox * 3 + c]! + amend) * multiplier) / 16777216);
      }
      out[o + 3] = 255;
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}
