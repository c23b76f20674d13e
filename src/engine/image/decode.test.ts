import { describe, expect, it } from 'vitest';
import {
  MAX_DECODED_PIXELS,
  STRIP_PIXELS,
  decodeImageFile,
  fitWithin,
  type DecodeEnvironment,
} from './decode';
import { ImageDecodeError } from '../../core/errors';
import { boxReduce, rotateClockwise, type ReducedImage } from './pilReduce';
import type { RgbaImage } from './rgbImage';
import { StageTimings } from '../inference/stageTimings';

/** A deterministic picture for the fakes: the value of channel `c` at (x, y); alpha from `alpha`. */
const patternValue = (x: number, y: number, c: number) => (x * 7 + y * 13 + c * 71 + ((x * y) % 29)) % 256;

function patternImage(width: number, height: number, top = 0, alpha = 255): Uint8ClampedArray {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[i + c] = patternValue(x, y + top, c);
      data[i + 3] = alpha;
    }
  return data;
}

/** Fake bitmaps and canvases that record what the decoder asked for. */
function fakeEnvironment(width: number, height: number, webp = true, alpha = 255) {
  const calls: {
    bitmapOptions: ImageBitmapOptions[];
    canvases: [number, number][];
    closed: number;
    blobTypes: string[];
    /** Source rows each 1:1 drawImage read ([top, rows]). */
    strips: [number, number][];
    putImageData: [number, number][];
  } = {
    bitmapOptions: [],
    canvases: [],
    closed: 0,
    blobTypes: [],
    strips: [],
    putImageData: [],
  };
  const env: DecodeEnvironment = {
    createImageBitmap: async (_blob, options) => {
      calls.bitmapOptions.push(options);
      const w = options.resizeWidth ?? width;
      const h = options.resizeHeight ?? height;
      return { width: w, height: h, close: () => calls.closed++ } as ImageBitmap;
    },
    createCanvas: (w, h) => {
      calls.canvases.push([w, h]);
      let drawnTop = 0;
      const context = {
        drawImage: (_source: unknown, ...args: number[]) => {
          // The 9-argument form (source rectangle → canvas) is the strip reader's.
          if (args.length === 8) {
            drawnTop = args[1]!;
            calls.strips.push([args[1]!, args[3]!]);
          }
        },
        // The pattern only for the strip reader (a whole 64-MP picture of it would be slow to build).
        getImageData: (_x: number, _y: number, dw: number, dh: number) => ({
          data:
            calls.strips.length > 0
              ? patternImage(dw, dh, drawnTop, alpha)
              : new Uint8ClampedArray(dw * dh * 4),
          width: dw,
          height: dh,
        }),
        putImageData: (image: ImageData) => calls.putImageData.push([image.width, image.height]),
        imageSmoothingQuality: 'low',
      };
      return {
        getContext: () => context,
        convertToBlob: async ({ type }: { type: string }) => {
          calls.blobTypes.push(type);
          return new Blob(['t'], { type: type === 'image/webp' && !webp ? 'image/png' : type });
        },
      } as unknown as OffscreenCanvas;
    },
    createImageData: (data, w, h) => ({ data, width: w, height: h }) as unknown as ImageData,
  };
  return { env, calls };
}

describe('fitWithin', () => {
  it('shrinks the longer side to the limit and never enlarges', () => {
    expect(fitWithin(4000, 3000, 256)).toEqual({ width: 256, height: 192 });
    expect(fitWithin(300, 1200, 256)).toEqual({ width: 64, height: 256 });
    expect(fitWithin(100, 50, 256)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(10000, 1, 256)).toEqual({ width: 256, height: 1 });
  });
});

describe('decodeImageFile', () => {
  it('decodes with EXIF orientation and no colour conversion, and makes a WebP thumbnail', async () => {
    const { env, calls } = fakeEnvironment(640, 480);
    const decoded = await decodeImageFile(new Blob(['x']), 'cat.jpg', 128, env);
    expect(calls.bitmapOptions[0]).toEqual({
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
    expect(decoded.pixels).toMatchObject({ width: 640, height: 480 });
    expect((decoded.pixels as RgbaImage).data).toHaveLength(640 * 480 * 4);
    expect(calls.canvases).toEqual([
      [640, 480],
      [128, 96],
    ]);
    expect(decoded.thumbnail?.type).toBe('image/webp');
    expect(calls.closed).toBe(1);
  });

  it('falls back to JPEG thumbnails where WebP cannot be encoded, and skips them when asked', async () => {
    const noWebp = fakeEnvironment(64, 64, false);
    expect((await decodeImageFile(new Blob(['x']), 'a.png', 32, noWebp.env)).thumbnail?.type).toBe(
      'image/jpeg',
    );
    const none = fakeEnvironment(64, 64);
    expect((await decodeImageFile(new Blob(['x']), 'a.png', 0, none.env)).thumbnail).toBeNull();
  });

  it('lets the browser shrink gigantic images while decoding, keeping the true size', async () => {
    const { env, calls } = fakeEnvironment(20000, 10000);
    const decoded = await decodeImageFile(new Blob(['x']), 'pano.jpg', 0, env);
    expect(decoded).toMatchObject({ width: 20000, height: 10000 });
    const pixels = decoded.pixels as RgbaImage;
    expect(pixels.width * pixels.height).toBeLessThanOrEqual(MAX_DECODED_PIXELS);
    expect(calls.bitmapOptions[1]).toMatchObject({ resizeQuality: 'high', imageOrientation: 'from-image' });
    expect(calls.closed).toBe(2);
  });

  it('reads a large photo in strips, box-reduces it exactly and makes the thumbnail from the reduced pixels', async () => {
    const [width, height] = [1500, 1003]; // 1003 rows: the last strip and the last block row are partial
    const { env, calls } = fakeEnvironment(width, height);
    const timings = new StageTimings();
    const decoded = await decodeImageFile(new Blob(['x']), 'big.jpg', 100, env, {
      reducingFactors: () => [4, 3],
      timings,
    });
    const reduced = decoded.pixels as ReducedImage;
    const whole = boxReduce({ data: patternImage(width, height), width, height }, 4, 3);
    expect(reduced).toMatchObject({ xFactor: 4, yFactor: 3, sourceWidth: width, sourceHeight: height });
    expect(reduced.image).toMatchObject({ width: 375, height: 335 });
    expect(reduced.image.data).toEqual(whole.data);
    // Strips of whole block rows, about STRIP_PIXELS each, covering every row once.
    const stripRows = Math.floor(STRIP_PIXELS / width / 3) * 3;
    expect(calls.strips[0]).toEqual([0, stripRows]);
    expect(calls.strips.reduce((rows, [, n]) => rows + n, 0)).toBe(height);
    // The full-resolution picture is never read in one piece, and the thumbnail comes from the reduced pixels.
    expect(calls.canvases).not.toContainEqual([width, height]);
    expect(calls.putImageData).toEqual([[375, 335]]);
    expect(decoded.thumbnail?.type).toBe('image/webp');
    expect(decoded).toMatchObject({ width, height });
    expect(Object.keys(timings.toRecord())).toEqual([
      'decode',
      'pixels:read',
      'pixels:reduce',
      'pixels',
      'thumbnail',
    ]);
    expect(calls.closed).toBe(1);
  }, 60_000);

  it('reads an opaque JPEG through a VideoFrame of its stored pixels and turns only the reduced image', async () => {
    // Stored 70 × 45 (BGRX), shown turned 90° clockwise: 45 × 70 on display, as a phone photo with EXIF 6.
    const stored = { data: patternImage(70, 45), width: 70, height: 45 };
    const { env, calls } = fakeEnvironment(45, 70);
    let closed = 0;
    const copies: DOMRectInit[] = [];
    const makeFrame = (flip: boolean) =>
      ({
        format: 'BGRX',
        rotation: 90,
        flip,
        visibleRect: { x: 0, y: 0, width: 70, height: 45 },
        copyTo: async (dest: Uint8Array, { rect }: { rect: DOMRectInit }) => {
          copies.push(rect);
          for (let y = 0; y < rect.height!; y++)
            for (let x = 0; x < 70; x++) {
              const from = ((rect.y! + y) * 70 + x) * 4;
              const to = (y * 70 + x) * 4;
              dest[to] = stored.data[from + 2]!;
              dest[to + 1] = stored.data[from + 1]!;
              dest[to + 2] = stored.data[from]!;
              dest[to + 3] = 255;
            }
          return [];
        },
        close: () => closed++,
      }) as unknown as VideoFrame;
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
    const decode = (flip: boolean) =>
      decodeImageFile(
        new Blob([jpeg]),
        'phone.jpg',
        0,
        { ...env, createVideoFrame: () => makeFrame(flip) },
        { reducingFactors: () => [4, 3] },
      );
    const reduced = (await decode(false)).pixels as ReducedImage;
    expect(reduced.image).toEqual(boxReduce(rotateClockwise(stored, 90), 4, 3));
    expect(reduced).toMatchObject({ xFactor: 4, yFactor: 3, sourceWidth: 45, sourceHeight: 70 });
    expect(copies.length).toBeGreaterThan(0);
    expect(calls.strips).toEqual([]); // no canvas
    // A mirrored frame is read through the canvas instead.
    await decode(true);
    expect(calls.strips.length).toBeGreaterThan(0);
    expect(closed).toBe(2);
  });

  it('composites transparent strips on white before reducing them', async () => {
    const { env } = fakeEnvironment(40, 30, true, 0);
    const decoded = await decodeImageFile(new Blob(['x']), 'clear.png', 0, env, {
      reducingFactors: () => [2, 2],
    });
    expect(new Set((decoded.pixels as ReducedImage).image.data)).toEqual(new Set([255]));
  });

  it('turns a decoding failure into an ImageDecodeError naming the file', async () => {
    const env: DecodeEnvironment = {
      createImageBitmap: () =>
        Promise.reject(new DOMException('The source image could not be decoded.', 'InvalidStateError')),
      createCanvas: () => {
        throw new Error('not reached');
      },
      createImageData: () => {
        throw new Error('not reached');
      },
    };
    const attempt = decodeImageFile(new Blob(['notes'], { type: 'image/png' }), 'notes.png', 64, env);
    await expect(attempt).rejects.toBeInstanceOf(ImageDecodeError);
    // What the bytes are and what to do; the browser's raw words stay out of the sentence.
    await expect(attempt).rejects.toThrow(
      'notes.png is not an image: its content is none of the formats EVA Lens reads (JPEG, PNG, WebP, GIF, BMP, ' +
        'AVIF), whatever its name says. Add the picture in one of those formats.',
    );
    await expect(attempt).rejects.not.toThrow(/could not be decoded/);
    // A real PNG signature that fails to decode is a damaged PNG.
    const damaged = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await expect(decodeImageFile(new Blob([damaged]), 'cut.png', 64, env)).rejects.toThrow(
      /^cut\.png is a PNG file whose picture data is damaged or cut off\. .* save it again as PNG;/,
    );
    // Markup named as an image is named for what it is.
    const page = new Blob(['<!DOCTYPE html><html><body>hi</body></html>'], { type: 'image/jpeg' });
    await expect(decodeImageFile(page, 'page.jpg', 64, env)).rejects.toThrow(
      /^page\.jpg is a web page \(HTML\), not an image\./,
    );
    const drawing = new Blob(['<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>']);
    await expect(decodeImageFile(drawing, 'logo.svg', 64, env)).rejects.toThrow(
      /^logo\.svg is an SVG drawing, which EVA Lens cannot read\. Export it as PNG/,
    );
  });

  it('refuses empty files, PDFs, HEIC it cannot decode and oversized images before or instead of decoding', async () => {
    let decodes = 0;
    const env: DecodeEnvironment = {
      createImageBitmap: () => {
        decodes++;
        return Promise.reject(
          new DOMException('The source image could not be decoded.', 'InvalidStateError'),
        );
      },
      createCanvas: () => {
        throw new Error('not reached');
      },
      createImageData: () => {
        throw new Error('not reached');
      },
    };
    await expect(decodeImageFile(new Blob([]), 'zero.png', 64, env)).rejects.toThrow(
      'zero.png is empty (0 bytes), so there is no image in it.',
    );
    await expect(decodeImageFile(new Blob(['%PDF-1.4 …']), 'scan.jpg', 64, env)).rejects.toThrow(
      'scan.jpg is a PDF document, not an image. Save its pages as images, then add those.',
    );
    // A PNG header claiming 30000 × 30000 (a decompression bomb): refused from the header alone.
    const bomb = new Uint8Array(33);
    bomb.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(bomb.buffer).setUint32(16, 30000);
    new DataView(bomb.buffer).setUint32(20, 30000);
    await expect(decodeImageFile(new Blob([bomb]), 'bomb.png', 64, env)).rejects.toThrow(
      'bomb.png is 900 megapixels (30,000 × 30,000 pixels); EVA Lens reads images up to 100 megapixels. ' +
        'Add a smaller copy of it.',
    );
    expect(decodes).toBe(0);
    const heic = new Uint8Array(
      [0, 0, 0, 24, ...'ftypheic'].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)),
    );
    await expect(
      decodeImageFile(new Blob([heic, new Uint8Array(8)]), 'IMG_0001.HEIC', 64, env),
    ).rejects.toThrow(
      /^IMG_0001\.HEIC is a HEIC\/HEIF photo, which this browser cannot decode\. Export it as JPEG/,
    );
  });
});
