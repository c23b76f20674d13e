/**
 * The pixel container of the preprocessing steps, and the alpha step.
 *
 * Pixels stay 4 bytes each all the way through (like Pillow's own RGB images, which are RGBX in memory): copying a
 * 24-MP ImageData into a 3-byte layout would cost more than the whole resize. The 4th byte is ignored once alpha has
 * been composited.
 */

/** Decoded pixels as the browser gives them (`ImageData`): 4 bytes per pixel, row-major, not premultiplied. */
export interface RgbaImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
}

/** Checks that `image` is a non-empty RGBA buffer of the size it claims. */
export function assertRgbaImage(image: RgbaImage): void {
  const { data, width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`An image must be at least 1×1 pixels (got ${width}×${height}).`);
  }
  if (data.length !== width * height * 4) {
    throw new RangeError(`RGBA data of ${data.length} bytes does not match ${width}×${height} pixels.`);
  }
}

/**
 * The image with alpha composited on white: out = ⌊(c·a + 255·(255 − a) + 127) / 255⌋ per channel, in integers,
 * and alpha set to 255. White is what a transparent PNG shows on the page; EVA-CLIP's plain `convert('RGB')` would
 * instead expose whatever colour the transparent pixels happen to store. `models/eva_lens/preprocess.py` does the
 * same. An opaque image is returned as is (no copy).
 */
export function compositeOnWhite(image: RgbaImage): RgbaImage {
  assertRgbaImage(image);
  const { data } = image;
  let firstTransparent = -1;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      firstTransparent = i - 3;
      break;
    }
  }
  if (firstTransparent < 0) return image;
  const out = new Uint8Array(data);
  for (let i = firstTransparent; i < out.length; i += 4) {
    const alpha = out[i + 3]!;
    if (alpha === 255) continue;
    const white = 255 * (255 - alpha) + 127;
    out[i] = Math.floor((out[i]! * alpha + white) / 255);
    out[i + 1] = Math.floor((out[i + 1]! * alpha + white) / 255);
    out[i + 2] = Math.floor((out[i + 2]! * alpha + white) / 255);
    out[i + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height };
}
