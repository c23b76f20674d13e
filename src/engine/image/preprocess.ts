/**
 * EVA-CLIP's eval preprocessing in TypeScript, matching `models/eva_lens/preprocess.py` (PIL + torchvision
 * semantics) exactly: alpha composited on white → shortest side resized to `size` with PIL's bicubic → centre crop
 * → /255 → (x − mean) / std → float32 CHW. Canvas resizing is not used: it is not PIL's bicubic, and the
 * embeddings drift measurably from PyTorch's when it is.
 *
 * Large images take a fast path: when the image is at least 6× the target (`REDUCING_GAP` = 3 leaves at least 3×
 * for the bicubic step), it is first shrunk by an integer factor with Pillow's box `reduce`, exactly as
 * `Image.resize(..., reducing_gap=3.0)` does. That result equals PIL's own `reducing_gap=3.0` output bit for bit but
 * is not the plain reference. Measured on the 17 sample images + synthetic ones at sizes 64 and 224: mean |Δ| about
 * 0.003 normalised units (≈ 0.2 of an 8-bit level), max 0.117 (8 levels, on isolated edge pixels); with a gap of 2
 * (starting at 4×) it was 0.008 mean and 13 levels max, for no real speed gain, hence 3. A 24-MP photo costs about
 * one pass over its pixels for the box step plus a small bicubic, instead of a ~70-tap filter per output pixel.
 */
import type { ImagePreprocess } from '../../core/manifest';
import { boxReduce, reducingFactors, type ReducedImage } from './pilReduce';
import { resizeBicubicCrop, type CropRect } from './pilResample';
import { compositeOnWhite, type RgbaImage } from './rgbImage';

export type { RgbaImage } from './rgbImage';
export type { ReducedImage } from './pilReduce';

/** PIL's `reducing_gap` for the fast path; `null` disables it. */
export const REDUCING_GAP = 3;

export interface PreprocessOptions {
  /** Shrink large images with an exact box filter first (default REDUCING_GAP); `null` = plain reference. */
  reducingGap?: number | null;
}

/** torchvision `Resize(size)`: the shortest side becomes `size`, the other `int(size * long / short)`. */
export function resizedSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Python's `round()`: halves go to the even neighbour (round(0.5) = 0, round(1.5) = 2). */
export function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** torchvision `CenterCrop(size)` on a `width × height` image: offsets `int(round((w − size) / 2))`. */
export function centerCrop(width: number, height: number, size: number): CropRect {
  return {
    left: roundHalfToEven((width - size) / 2),
    top: roundHalfToEven((height - size) / 2),
    width: size,
    height: size,
  };
}

/**
 * The box-reduce factors of the fast path for a `width × height` image and model input `size` ([1, 1]: none, the
 * image is resampled as it is). The decoder uses them to shrink a large photo strip by strip while reading it.
 */
export function reducingFactorsFor(
  width: number,
  height: number,
  size: number,
  gap: number | null = REDUCING_GAP,
): [number, number] {
  if (gap === null) return [1, 1];
  const out = resizedSize(width, height, size);
  return reducingFactors(width, height, out.width, out.height, gap);
}

/** The `size × size` RGB crop EVA-CLIP would see (before normalisation). */
export function resizeAndCrop(image: RgbaImage, size: number, options: PreprocessOptions = {}): RgbaImage {
  const gap = options.reducingGap === undefined ? REDUCING_GAP : options.reducingGap;
  const [xFactor, yFactor] = reducingFactorsFor(image.width, image.height, size, gap);
  if (xFactor > 1 || yFactor > 1) {
    const reduced = boxReduce(image, xFactor, yFactor);
    return resizeReducedAndCrop(
      { image: reduced, xFactor, yFactor, sourceWidth: image.width, sourceHeight: image.height },
      size,
    );
  }
  const out = resizedSize(image.width, image.height, size);
  return resizeBicubicCrop(image, out.width, out.height, centerCrop(out.width, out.height, size));
}

/**
 * The second half of the fast path: bicubic from an image already box-reduced (by `resizeAndCrop`, or by the
 * decoder while it read the picture). As PIL, the reduced image is resampled from the box the original maps to
 * (partial edge blocks included).
 */
export function resizeReducedAndCrop(reduced: ReducedImage, size: number): RgbaImage {
  const { sourceWidth, sourceHeight, xFactor, yFactor } = reduced;
  const out = resizedSize(sourceWidth, sourceHeight, size);
  const crop = centerCrop(out.width, out.height, size);
  return resizeBicubicCrop(reduced.image, out.width, out.height, crop, [
    0,
    0,
    sourceWidth / xFactor,
    sourceHeight / yFactor,
  ]);
}

/** Whether `image` is a box-reduced image rather than plain pixels. */
export function isReducedImage(image: RgbaImage | ReducedImage): image is ReducedImage {
  return 'xFactor' in image;
}

/**
 * torchvision `ToTensor` + `Normalize` in float32 (each step rounded to float32, as torch computes it): an RGB
 * image → CHW floats.
 */
export function normalizeToChw(
  image: RgbaImage,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  out: Float32Array = new Float32Array(image.width * image.height * 3),
): Float32Array {
  const plane = image.width * image.height;
  if (image.data.length !== plane * 4) throw new RangeError('The image data does not match its size.');
  if (out.length < plane * 3)
    throw new RangeError(`The output needs ${plane * 3} floats (has ${out.length}).`);
  for (let c = 0; c < 3; c++) {
    const mean32 = Math.fround(mean[c]!);
    const std32 = Math.fround(std[c]!);
    // The 256 possible values per channel, computed once with torch's float32 rounding at each step.
    const lookup = new Float32Array(256);
    for (let v = 0; v < 256; v++) lookup[v] = Math.fround(Math.fround(Math.fround(v / 255) - mean32) / std32);
    for (let p = 0, i = c; p < plane; p++, i += 4) out[c * plane + p] = lookup[image.data[i]!]!;
  }
  return out;
}

/**
 * Decoded RGBA pixels (or the decoder's box-reduced image of a large photo) → the model's `pixel_values` for one
 * image, float32 `[3, size, size]`.
 * @param config the manifest's `image` block (size, mean, std).
 */
export function preprocessImage(
  image: RgbaImage | ReducedImage,
  config: Pick<ImagePreprocess, 'size' | 'mean' | 'std'>,
  options: PreprocessOptions = {},
  out?: Float32Array,
): Float32Array {
  // A reduced image was composited before it was reduced (alpha is 255 after the box step).
  const cropped = isReducedImage(image)
    ? resizeReducedAndCrop(image, config.size)
    : resizeAndCrop(compositeOnWhite(image), config.size, options);
  return normalizeToChw(cropped, config.mean, config.std, out);
}
