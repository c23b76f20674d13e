/**
 * Worker-side image decoding: a file → RGBA pixels (EXIF orientation applied) and a small thumbnail, with
 * `createImageBitmap` and `OffscreenCanvas` (no DOM). Colour management is switched off
 * (`colorSpaceConversion: 'none'`) because the PIL reference ignores ICC profiles and PNG gamma too.
 */
import { ImageDecodeError, describeError } from './errors';
import type { RgbaImage } from './rgbImage';

/** Above this many pixels the browser shrinks the image while decoding (a 400 MB ImageData would not fit). */
export const MAX_DECODED_PIXELS = 64_000_000;

export interface DecodedImage {
  pixels: RgbaImage;
  /** Size after EXIF orientation (before any shrink for MAX_DECODED_PIXELS). */
  width: number;
  height: number;
  thumbnail: Blob | null;
}

/** The browser APIs decoding needs; tests pass fakes. */
export interface DecodeEnvironment {
  createImageBitmap(blob: Blob, options: ImageBitmapOptions): Promise<ImageBitmap>;
  createCanvas(width: number, height: number): OffscreenCanvas;
}

const browserEnvironment = (): DecodeEnvironment => ({
  createImageBitmap: (blob, options) => createImageBitmap(blob, options),
  createCanvas: (width, height) => new OffscreenCanvas(width, height),
});

/** Scales `width × height` down so that its longer side is at most `maxSide` (never up); at least 1×1. */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/**
 * Decodes `file` into RGBA pixels and, when `thumbnailSize` > 0, a WebP (or JPEG where WebP encoding is missing)
 * thumbnail whose longer side is `thumbnailSize`.
 * @throws ImageDecodeError when the file is not an image the browser can decode.
 */
export async function decodeImageFile(
  file: Blob,
  name: string,
  thumbnailSize: number,
  env: DecodeEnvironment = browserEnvironment(),
): Promise<DecodedImage> {
  const options: ImageBitmapOptions = {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  };
  let bitmap: ImageBitmap;
  try {
    bitmap = await env.createImageBitmap(file, options);
  } catch (error) {
    const type = file.type ? ` (${file.type})` : '';
    throw new ImageDecodeError(
      `${name}${type} could not be read as an image (${describeError(error)}). Use JPEG, PNG, WebP, GIF, BMP or AVIF.`,
    );
  }
  try {
    const { width, height } = bitmap;
    if (width === 0 || height === 0) throw new ImageDecodeError(`${name} is an empty image (0 pixels).`);
    if (width * height > MAX_DECODED_PIXELS) {
      const shrunk = await shrinkBitmap(env, file, options, width, height);
      bitmap.close();
      bitmap = shrunk;
    }
    const pixels = readPixels(env, bitmap, name);
    const thumbnail = thumbnailSize > 0 ? await makeThumbnail(env, bitmap, thumbnailSize) : null;
    return { pixels, width, height, thumbnail };
  } finally {
    bitmap.close();
  }
}

async function shrinkBitmap(
  env: DecodeEnvironment,
  file: Blob,
  options: ImageBitmapOptions,
  width: number,
  height: number,
): Promise<ImageBitmap> {
  const scale = Math.sqrt(MAX_DECODED_PIXELS / (width * height));
  return env.createImageBitmap(file, {
    ...options,
    resizeWidth: Math.max(1, Math.floor(width * scale)),
    resizeHeight: Math.max(1, Math.floor(height * scale)),
    resizeQuality: 'high',
  });
}

function readPixels(env: DecodeEnvironment, bitmap: ImageBitmap, name: string): RgbaImage {
  const canvas = env.createCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context)
    throw new ImageDecodeError(`${name}: this browser cannot draw images in a worker (no 2D context).`);
  context.drawImage(bitmap, 0, 0);
  const imageData = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { data: imageData.data, width: imageData.width, height: imageData.height };
}

async function makeThumbnail(
  env: DecodeEnvironment,
  bitmap: ImageBitmap,
  maxSide: number,
): Promise<Blob | null> {
  const size = fitWithin(bitmap.width, bitmap.height, maxSide);
  const canvas = env.createCanvas(size.width, size.height);
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.imageSmoothingQuality = 'high';
  context.drawImage(bitmap, 0, 0, size.width, size.height);
  // Browsers without a WebP encoder return PNG instead; JPEG is then much smaller.
  const webp = await canvas.convertToBlob({ type: 'image/webp', quality: 0.8 });
  if (webp.type === 'image/webp') return webp;
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}
