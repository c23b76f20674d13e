/**
 * Worker-side image decoding: a file → RGBA pixels (EXIF orientation applied) and a small thumbnail, with
 * `createImageBitmap` and `OffscreenCanvas` (no DOM). Colour management is switched off
 * (`colorSpaceConversion: 'none'`) because the PIL reference ignores ICC profiles and PNG gamma too.
 */
import { ImageDecodeError } from '../../core/errors';
import { HEADER_BYTES, sniffImageHeader, type ImageHeader, type SniffedFormat } from './imageHeader';
import { BoxReducer, rotateClockwise, type ReducedImage } from './pilReduce';
import { compositeOnWhite, type RgbaImage } from './rgbImage';
import type { StageTimings } from '../inference/stageTimings';

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

/**
 * A large photo is read from the decoded bitmap in strips of about this many pixels (4 MB of RGBA) and box-reduced
 * strip by strip, so its full-resolution pixels are never copied out whole (a 24-MP ImageData is 96 MB).
 */
export const STRIP_PIXELS = 1 << 20;

export interface DecodedImage {
  /** The pixels, or for a large photo the box-reduced pixels (see DecodeOptions.reducingFactors). */
  pixels: RgbaImage | ReducedImage;
  /** Size after EXIF orientation (before any shrink for MAX_DECODED_PIXELS). */
  width: number;
  height: number;
  thumbnail: Blob | null;
}

/** The browser APIs decoding needs; tests pass fakes. */
export interface DecodeEnvironment {
  createImageBitmap(blob: Blob, options: ImageBitmapOptions): Promise<ImageBitmap>;
  createCanvas(width: number, height: number): OffscreenCanvas;
  createImageData(data: Uint8Array, width: number, height: number): ImageData;
  /**
   * WebCodecs' VideoFrame over a decoded bitmap, where the browser has one: it copies rows of the bitmap out as they
   * are stored, where a canvas would draw the whole picture first and convert it again in `getImageData`.
   */
  createVideoFrame?(bitmap: ImageBitmap): VideoFrame;
}

const browserEnvironment = (): DecodeEnvironment => ({
  createImageBitmap: (blob, options) => createImageBitmap(blob, options),
  createCanvas: (width, height) => new OffscreenCanvas(width, height),
  createImageData: (data, width, height) =>
    new ImageData(
      new Uint8ClampedArray(data.buffer as ArrayBuffer, data.byteOffset, data.length),
      width,
      height,
    ),
  ...(typeof VideoFrame === 'function'
    ? { createVideoFrame: (bitmap: ImageBitmap) => new VideoFrame(bitmap, { timestamp: 0 }) }
    : {}),
});

/** What the caller wants besides the pixels. */
export interface DecodeOptions {
  /**
   * Pillow box-reduce factors for a decoded `width × height` picture ([1, 1]: none). With factors above 1 the
   * picture is read in strips, composited on white and reduced strip by strip (exactly what reducing the whole
   * image would give), and the thumbnail is made from the reduced pixels instead of the full-resolution bitmap.
   */
  reducingFactors?: (width: number, height: number) => [number, number];
  /**
   * Receives the time of each step: 'decode' (the browser's decoder), 'pixels' (reading/reducing), 'thumbnail',
   * and within 'pixels' on the reduced path: 'pixels:copy' (rows out of a VideoFrame) or 'pixels:read' (through a
   * canvas), and 'pixels:reduce'.
   */
  timings?: StageTimings;
}

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
  decodeOptions: DecodeOptions = {},
): Promise<DecodedImage> {
  const { timings } = decodeOptions;
  const timed = async <T>(stage: string, task: () => Promise<T> | T): Promise<T> =>
    timings ? timings.time(stage, async () => task()) : task();
  const options: ImageBitmapOptions = {
    imageOrientation: 'from-image',
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  };
  const header = await checkBeforeDecoding(file, name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await timed('decode', () => env.createImageBitmap(file, options));
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
      const shrunk = await timed('decode', () => shrinkBitmap(env, file, options, width, height));
      bitmap.close();
      bitmap = shrunk;
    }
    const [xFactor, yFactor] = decodeOptions.reducingFactors?.(bitmap.width, bitmap.height) ?? [1, 1];
    if (xFactor > 1 || yFactor > 1) {
      // A JPEG has no alpha: the per-strip scan for transparent pixels can be skipped.
      const opaque = header?.format === 'jpeg';
      const reduced = await timed('pixels', () =>
        readReducedPixels(env, bitmap, name, xFactor, yFactor, opaque, timings),
      );
      const thumbnail =
        thumbnailSize > 0
          ? await timed('thumbnail', () => thumbnailFromPixels(env, reduced.image, thumbnailSize))
          : null;
      return { pixels: reduced, width, height, thumbnail };
    }
    const pixels = await timed('pixels', () => readPixels(env, bitmap, name));
    const thumbnail =
      thumbnailSize > 0 ? await timed('thumbnail', () => makeThumbnail(env, bitmap, thumbnailSize)) : null;
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
  const context = readerContext(env, bitmap.width, bitmap.height, name);
  context.drawImage(bitmap, 0, 0);
  const imageData = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { data: imageData.data, width: imageData.width, height: imageData.height };
}

function readerContext(env: DecodeEnvironment, width: number, height: number, name: string) {
  const context = env.createCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!context)
    throw new ImageDecodeError(`${name}: this browser cannot draw images in a worker (no 2D context).`);
  return context;
}

/**
 * The bitmap box-reduced by (xFactor, yFactor), read a strip of rows at a time and reduced strip by strip (see
 * BoxReducer), so that the full-resolution pixels are never copied out whole. An opaque picture is read through a
 * VideoFrame where the browser has one; otherwise (or when the frame is not 8-bit RGB, or is mirrored) through a
 * canvas of a few rows.
 */
async function readReducedPixels(
  env: DecodeEnvironment,
  bitmap: ImageBitmap,
  name: string,
  xFactor: number,
  yFactor: number,
  opaque: boolean,
  timings?: StageTimings,
): Promise<ReducedImage> {
  const maxRows = Math.max(1, Math.floor(STRIP_PIXELS / bitmap.width / yFactor)) * yFactor;
  if (opaque && env.createVideoFrame) {
    const frame = env.createVideoFrame(bitmap);
    try {
      const reduced = await readThroughVideoFrame(frame, bitmap, xFactor, yFactor, timings);
      if (reduced) return reduced;
    } finally {
      frame.close();
    }
  }
  return readThroughCanvas(env, bitmap, name, xFactor, yFactor, maxRows, opaque, timings);
}

/** Pixel formats a VideoFrame of a bitmap may have whose rows the reducer reads as they are. */
const FRAME_CHANNEL_ORDER: Partial<Record<VideoPixelFormat, 'rgba' | 'bgra'>> = {
  RGBA: 'rgba',
  RGBX: 'rgba',
  BGRA: 'bgra',
  BGRX: 'bgra',
};

/**
 * Rows copied straight out of the frame's stored pixels, a copy with no conversion (its 4th byte is ignored: the
 * picture is opaque). The frame keeps the picture as stored, with the EXIF turn as `rotation`: the blocks are laid
 * on the stored rows so that each holds the pixels of Pillow's block on the displayed picture, and only the small
 * reduced image is turned. Null (read through a canvas instead) when the frame is not 8-bit RGB, is mirrored, or
 * does not say how it is turned.
 */
async function readThroughVideoFrame(
  frame: VideoFrame,
  display: { width: number; height: number },
  xFactor: number,
  yFactor: number,
  timings?: StageTimings,
): Promise<ReducedImage | null> {
  const order = frame.format ? FRAME_CHANNEL_ORDER[frame.format] : undefined;
  // A browser whose frames do not say how they are turned (no `rotation`) may store them either way: canvas then.
  const rotation = (frame as { rotation?: unknown }).rotation;
  const flip = (frame as { flip?: unknown }).flip;
  if (!order || flip !== false || (rotation !== 0 && rotation !== 90 && rotation !== 180 && rotation !== 270))
    return null;
  const rect = frame.visibleRect;
  if (!rect) return null;
  const { x: left, y: top, width, height } = rect;
  const turned = rotation === 90 || rotation === 270;
  if ((turned ? [height, width] : [width, height]).join() !== [display.width, display.height].join())
    return null;
  // Stored x runs along displayed y for a quarter turn; 180 and 270 reverse stored x, 90 and 180 stored y.
  const reducer = new BoxReducer(width, height, turned ? yFactor : xFactor, turned ? xFactor : yFactor, {
    channelOrder: order,
    alignRight: rotation === 180 || rotation === 270,
    alignBottom: rotation === 90 || rotation === 180,
  });
  const maxRows = Math.max(turned ? xFactor : yFactor, Math.floor(STRIP_PIXELS / width));
  const strip = new Uint8Array(width * maxRows * 4);
  for (let done = 0; done < height;) {
    const rows = reducer.nextStripRows(maxRows);
    let started = performance.now();
    await frame.copyTo(strip, {
      rect: { x: left, y: top + done, width, height: rows },
      layout: [{ offset: 0, stride: width * 4 }],
    });
    timings?.add('pixels:copy', performance.now() - started);
    started = performance.now();
    reducer.addRows(strip, rows);
    timings?.add('pixels:reduce', performance.now() - started);
    done += rows;
  }
  const stored = reducer.result();
  return {
    image: rotateClockwise(stored.image, rotation),
    xFactor,
    yFactor,
    sourceWidth: display.width,
    sourceHeight: display.height,
  };
}

/**
 * Each strip is drawn 1:1 on a canvas of a few rows ('copy' compositing, so a transparent strip never blends with
 * the one before), read back, composited on white as the reference does, and handed to the reducer.
 */
function readThroughCanvas(
  env: DecodeEnvironment,
  bitmap: ImageBitmap,
  name: string,
  xFactor: number,
  yFactor: number,
  maxRows: number,
  opaque: boolean,
  timings?: StageTimings,
): ReducedImage {
  const { width, height } = bitmap;
  const context = readerContext(env, width, Math.min(height, maxRows), name);
  context.globalCompositeOperation = 'copy';
  context.imageSmoothingEnabled = false;
  const reducer = new BoxReducer(width, height, xFactor, yFactor);
  for (let top = 0; top < height;) {
    const rows = reducer.nextStripRows(maxRows);
    // The draw is deferred by the canvas: its cost shows in the read.
    let started = performance.now();
    context.drawImage(bitmap, 0, top, width, rows, 0, 0, width, rows);
    const strip: RgbaImage = context.getImageData(0, 0, width, rows);
    timings?.add('pixels:read', performance.now() - started);
    started = performance.now();
    reducer.addRows((opaque ? strip : compositeOnWhite(strip)).data, rows);
    timings?.add('pixels:reduce', performance.now() - started);
    top += rows;
  }
  return reducer.result();
}

/** A thumbnail drawn from pixels already in memory (the reduced image of a large photo). */
async function thumbnailFromPixels(
  env: DecodeEnvironment,
  image: RgbaImage,
  maxSide: number,
): Promise<Blob | null> {
  const source = env.createCanvas(image.width, image.height);
  const context = source.getContext('2d');
  if (!context) return null;
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length);
  context.putImageData(env.createImageData(data, image.width, image.height), 0, 0);
  return makeThumbnail(env, source, maxSide);
}

async function makeThumbnail(
  env: DecodeEnvironment,
  bitmap: ImageBitmap | OffscreenCanvas,
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
