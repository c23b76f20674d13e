/**
 * Pillow's `Image.resize(size, Image.BICUBIC, box)` for 8-bit RGB (4 bytes per pixel, the 4th ignored), bit for bit, written from Pillow's
 * `src/libImaging/Resample.c` (9.4): a separable two-pass convolution (horizontal, then vertical) with the
 * bicubic kernel (a = −0.5) whose support grows with the downscale factor (antialiasing), coefficients normalised to
 * sum 1 then rounded to 22-bit fixed point, and 8-bit rounding and clipping after each pass.
 *
 * Only the output pixels inside `crop` are computed: every output pixel depends only on its own coefficients, so
 * resizing then cropping (torchvision's Resize + CenterCrop) gives the same bytes as computing the crop alone.
 */
import type { RgbaImage } from './rgbImage';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2;

/** Pillow's `bicubic_filter` with a = −0.5. */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Integer taps of one axis for output indices `first … first + count − 1`. */
export interface AxisTaps {
  /** Taps per output index (Pillow's `ksize`); unused trailing taps are 0. */
  kernelSize: number;
  /** First input index read by each output index. */
  start: Int32Array;
  /** Number of input indices read by each output index. */
  length: Int32Array;
  /** Fixed-point weights, `count × kernelSize`. */
  weights: Int32Array;
}

/**
 * Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the input span [in0, in1) mapped onto `outSize`
 * pixels, restricted to output indices [first, first + count). `in0`/`in1` are C floats in Pillow, hence fround.
 */
export function bicubicTaps(
  inSize: number,
  in0: number,
  in1: number,
  outSize: number,
  first: number,
  count: number,
): AxisTaps {
  const box0 = Math.fround(in0);
  const scale = Math.fround(Math.fround(in1) - box0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(count);
  const length = new Int32Array(count);
  const weights = new Int32Array(count * kernelSize);
  const raw = new Float64Array(kernelSize);
  const inverseFilterScale = 1 / filterScale;
  for (let i = 0; i < count; i++) {
    const center = box0 + (first + i + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * inverseFilterScale);
      raw[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? raw[x]! / sum : raw[x]!;
      weights[i * kernelSize + x] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    start[i] = xmin;
    length[i] = Math.max(0, xmax);
  }
  return { kernelSize, start, length, weights };
}

/** Pillow's `clip8`: drop the fixed-point fraction and clamp to 0…255. */
function clip8(accumulator: number): number {
  const v = accumulator >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** A rectangle of output pixels. */
export interface CropRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The `crop` of `image.resize((outWidth, outHeight), BICUBIC, box)` where `box` = [x0, y0, x1, y1] is the input
 * region (default: the whole image).
 */
export function resizeBicubicCrop(
  image: RgbaImage,
  outWidth: number,
  outHeight: number,
  crop: CropRect,
  box: [number, number, number, number] = [0, 0, image.width, image.height],
): RgbaImage {
  const [x0, y0, x1, y1] = box.map(Math.fround) as [number, number, number, number];
  // Pillow skips a pass whose axis keeps its size and box; the pass would be an exact copy anyway.
  const needHorizontal = outWidth !== image.width || x0 !== 0 || x1 !== outWidth;
  const needVertical = outHeight !== image.height || y0 !== 0 || y1 !== outHeight;
  const vertical = needVertical ? bicubicTaps(image.height, y0, y1, outHeight, crop.top, crop.height) : null;
  const firstRow = vertical ? vertical.start[0]! : crop.top;
  const lastRow = vertical
    ? vertical.start[crop.height - 1]! + vertical.length[crop.height - 1]!
    : crop.top + crop.height;
  const rows = needHorizontal
    ? horizontalPass(
        image,
        bicubicTaps(image.width, x0, x1, outWidth, crop.left, crop.width),
        firstRow,
        lastRow,
      )
    : copyColumns(image, crop.left, crop.width, firstRow, lastRow);
  return vertical ? verticalPass(rows, vertical, firstRow) : rows;
}

/** Rows [firstRow, lastRow) of the image, resampled horizontally to the taps' output columns. */
function horizontalPass(image: RgbaImage, taps: AxisTaps, firstRow: number, lastRow: number): RgbaImage {
  const { data, width } = image;
  const outWidth = taps.start.length;
  const out = new Uint8Array((lastRow - firstRow) * outWidth * 4);
  const { kernelSize, start, length, weights } = taps;
  let o = 0;
  for (let y = firstRow; y < lastRow; y++) {
    const rowOffset = y * width * 4;
    for (let xx = 0; xx < outWidth; xx++) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      const k = xx * kernelSize;
      let i = rowOffset + start[xx]! * 4;
      for (let t = 0, n = length[xx]!; t < n; t++, i += 4) {
        const w = weights[k + t]!;
        r += data[i]! * w;
        g += data[i + 1]! * w;
        b += data[i + 2]! * w;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
      out[o++] = 255;
    }
  }
  return { data: out, width: outWidth, height: lastRow - firstRow };
}

/** Resamples `rows` (input rows starting at `firstRow`) vertically to the taps' output rows. */
function verticalPass(rows: RgbaImage, taps: AxisTaps, firstRow: number): RgbaImage {
  const { data, width } = rows;
  const outHeight = taps.start.length;
  const out = new Uint8Array(outHeight * width * 4);
  const { kernelSize, start, length, weights } = taps;
  const stride = width * 4;
  let o = 0;
  for (let yy = 0; yy < outHeight; yy++) {
    const k = yy * kernelSize;
    const base = (start[yy]! - firstRow) * stride;
    const n = length[yy]!;
    for (let x = 0; x < stride; x += 4) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let t = 0, i = base + x; t < n; t++, i += stride) {
        const w = weights[k + t]!;
        r += data[i]! * w;
        g += data[i + 1]! * w;
        b += data[i + 2]! * w;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
      out[o++] = 255;
    }
  }
  return { data: out, width, height: outHeight };
}

/** Columns [left, left + count) of rows [firstRow, lastRow), unchanged. */
function copyColumns(
  image: RgbaImage,
  left: number,
  count: number,
  firstRow: number,
  lastRow: number,
): RgbaImage {
  const out = new Uint8Array((lastRow - firstRow) * count * 4);
  for (let y = firstRow; y < lastRow; y++) {
    const from = (y * image.width + left) * 4;
    out.set(image.data.subarray(from, from + count * 4), (y - firstRow) * count * 4);
  }
  return { data: out, width: count, height: lastRow - firstRow };
}
