/**
 * Worker-side image decoding: a file → RGBA pixels (EXIF orientation applied) and a small thumbnail, with
 * `createImageBitmap` and `OffscreenCanvas` (no DOM). Colour management is switched off
 * (`colorSpaceConversion: 'none'`) because the PIL reference ignores ICC profiles and PNG gamma too.
 */
import { ImageDecodeError } from '../../core/errors';
import { HEADER_BYTES, sniffImageHeader, type ImageHeader, type SniffedFormat } from './imageHeader';
import type { RgbaImage } from './rgbImage';

/** Above this many pixels the browser shrinks the image while decoding (a 400 MB ImageData would not fit). */
export const MAX_DECODED_PIXELS = 64_000_000;

/**
 * Images whose header claims more pixels than this are refused before decoding: decoding 100 MP already takes a
 * 400 MB bitmap, and a decompression bomb (a small PNG claiming 30000 × 30000) would ask for 3.6 GB.
 */
export const MAX_SOURCE_PIXELS = 100_000_000;

const FORMAT_NAMES: Record<SniffedFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
  heic: 'HEIC/HEIF',
  pdf: 'PDF',
  html: 'HTML',
  svg: 'SVG',
};

const megapixels = (pixels: number) => `${Math.round(pixels / 1e6).toLocaleString('en')} megapixels`;

/**
 * Refuses, from the first bytes alone, what must not reach the decoder: an empty file, a document with an image's
 * name, and an image too large to decode safely.
 */
async function checkBeforeDecoding(file: Blob, name: string): Promise<ImageHeader | null> {
  if (file.size === 0) throw new ImageDecodeError(`${name} is empty (0 bytes), so there is no image in it.`);
  const header = sniffImageHeader(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
  if (header?.format === 'pdf')
    throw new ImageDecodeError(
      `${name} is a PDF document, not an image. Save its pages as images, then add those.`,
    );
  if (header?.format === 'html')
    throw new ImageDecodeError(
      `${name} is a web page (HTML), not an image. Open it in a browser, save the pictures you want from it, ` +
        `then add those.`,
    );
  if (header?.format === 'svg')
    throw new ImageDecodeError(
      `${name} is an SVG drawing, which EVA Lens cannot read. Export it as PNG (a browser or any drawing ` +
        `program can), then add the PNG.`,
    );
  if (header?.width != null && header.height != null) {
    const pixels = header.width * header.height;
    if (pixels === 0) throw new ImageDecodeError(`${name} is an empty image (0 pixels).`);
    if (pixels > MAX_SOURCE_PIXELS) {
      throw new ImageDecodeError(
        `${name} is ${megapixels(pixels)} (${header.width.toLocaleString('en')} × ${header.height.toLocaleString('en')} ` +
          `pixels); EVA Lens reads images up to ${megapixels(MAX_SOURCE_PIXELS)}. Add a smaller copy of it.`,
      );
    }
  }
  return header;
}

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
  const header = await checkBeforeDecoding(file, name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await env.createImageBitmap(file, options);
  } catch {
    if (header?.format === 'heic') {
      throw new ImageDecodeError(
        `${name} is a HEIC/HEIF photo, which this browser cannot decode. Export it as JPEG (the Photos app and most ` +
          `phones can), then add it again.`,
      );
    }
    // The sentence says what the bytes are and what to do; the browser's own words ("The source image could not
    // be decoded") would add nothing a person can act on.
    if (header) {
      const format = FORMAT_NAMES[header.format];
      throw new ImageDecodeError(
        `${name} is a ${format} file whose picture data is damaged or cut off. Open it in an image viewer: if it ` +
          `shows there, save it again as ${format}; otherwise add the original again.`,
      );
    }
    throw new ImageDecodeError(
      `${name} is not an image: its content is none of the formats EVA Lens reads (JPEG, PNG, WebP, GIF, BMP, ` +
        `AVIF), whatever its name says. Add the picture in one of those formats.`,
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
