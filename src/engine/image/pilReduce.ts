/**
 * Pillow's `Image.reduce((fx, fy))` for 8-bit RGB (4 bytes per pixel, the 4th ignored): each output pixel is the rounded mean of an fx×fy block, and the
 * last column/row averages the partial block that is left. Written from Pillow's `src/libImaging/Reduce.c` (9.4):
 * the mean is computed as ((sum + n/2) · m) >> 24 with m = ⌊2³² / (256·n)⌋ evaluated in float32, which is not
 * always the exact rounded mean, so that rounding is reproduced here.
 *
 * The app uses it the way `Image.resize(..., reducing_gap=3)` does: a cheap exact box shrink before bicubic on
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

/** An image shrunk with Pillow's box reduce, and what it was shrunk from (the bicubic step needs both). */
export interface ReducedImage {
  image: RgbaImage;
  xFactor: number;
  yFactor: number;
  sourceWidth: number;
  sourceHeight: number;
}

/** The image shrunk by (xFactor, yFactor) with Pillow's box reduce: ⌈w/fx⌉ × ⌈h/fy⌉ pixels. */
export function boxReduce(image: RgbaImage, xFactor: number, yFactor: number): RgbaImage {
  const reducer = new BoxReducer(image.width, image.height, xFactor, yFactor);
  reducer.addRows(image.data, image.height);
  return reducer.result().image;
}

/** Where the box grid of one axis starts: at the first pixel (Pillow's own grid) or so that it ends at the last. */
export interface BoxGridOptions {
  /** The byte order of the rows given (a VideoFrame may store BGRA); the output is always RGBA. */
  channelOrder?: 'rgba' | 'bgra';
  /**
   * Blocks aligned to the right (bottom) edge: the partial block comes first. Reading a picture in its stored
   * orientation and rotating the small result afterwards needs this on the axes the rotation reverses, so that every
   * block holds the same pixels as Pillow's block on the displayed picture.
   */
  alignRight?: boolean;
  alignBottom?: boolean;
}

/** Block boundaries along an axis of `size` pixels: [0, …, size], blocks of `factor` but the partial one. */
function blockStarts(size: number, factor: number, alignEnd: boolean): Int32Array {
  const count = Math.ceil(size / factor);
  const starts = new Int32Array(count + 1);
  const first = alignEnd ? size % factor || factor : factor;
  for (let i = 1; i <= count; i++) starts[i] = Math.min(size, first + (i - 1) * factor);
  return starts;
}

/**
 * Pillow's box reduce fed a strip of rows at a time, so a large decoded image never has to be held (or copied)
 * whole: the caller reads the picture in strips of whole block rows (`nextStripRows`) and gives each one to
 * `addRows`. With the default grid the bytes are those of `boxReduce` on the whole image.
 */
export class BoxReducer {
  readonly outWidth: number;
  readonly outHeight: number;
  private readonly out: Uint8Array;
  private readonly columnStarts: Int32Array;
  private readonly rowStarts: Int32Array;
  private readonly channelOrder: 'rgba' | 'bgra';
  /**
   * Per output column, the sums of the block being filled: the 1st byte's (or the 1st and 3rd packed while summing),
   * the 2nd's and the 3rd's. The 1st byte is red in RGBA and blue in BGRA rows.
   */
  private readonly redBlue: Uint32Array;
  private readonly green: Uint32Array;
  private readonly blueWide: Uint32Array;
  private rowsDone = 0;
  private blockRowsDone = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly xFactor: number,
    readonly yFactor: number,
    options: BoxGridOptions = {},
  ) {
    this.outWidth = Math.ceil(width / xFactor);
    this.outHeight = Math.ceil(height / yFactor);
    this.out = new Uint8Array(this.outWidth * this.outHeight * 4);
    this.columnStarts = blockStarts(width, xFactor, options.alignRight ?? false);
    this.rowStarts = blockStarts(height, yFactor, options.alignBottom ?? false);
    this.channelOrder = options.channelOrder ?? 'rgba';
    this.redBlue = new Uint32Array(this.outWidth);
    this.green = new Uint32Array(this.outWidth);
    this.blueWide = new Uint32Array(this.outWidth);
  }

  /** How many rows the next strip should have: whole block rows, at most `maxRows` (at least one block row). */
  nextStripRows(maxRows: number): number {
    const { rowStarts } = this;
    let end = this.blockRowsDone + 1;
    while (end < this.outHeight && rowStarts[end + 1]! - this.rowsDone <= maxRows) end++;
    return Math.min(this.height, rowStarts[end]!) - this.rowsDone;
  }

  /** Adds the next `rows` rows (`data`: 4 bytes a pixel, `width` pixels a row); they must be whole block rows. */
  addRows(data: Uint8Array | Uint8ClampedArray, rows: number): void {
    const { width, rowStarts } = this;
    if (this.rowsDone + rows > this.height) throw new RangeError('More rows than the image has.');
    if (data.length < rows * width * 4) throw new RangeError('The strip is shorter than its rows.');
    // One 32-bit load per pixel (R | G << 8 | B << 16 | A << 24 on every little-endian platform browsers run on).
    const aligned = data.byteOffset % 4 === 0 ? data : new Uint8Array(data.subarray(0, rows * width * 4));
    const pixels = new Uint32Array(aligned.buffer, aligned.byteOffset, rows * width);
    const stripTop = this.rowsDone;
    while (this.rowsDone < stripTop + rows) {
      const blockEnd = rowStarts[this.blockRowsDone + 1]!;
      if (blockEnd > stripTop + rows) throw new RangeError('A strip must end at the end of a block row.');
      this.sumBlockRow(pixels, this.rowsDone - stripTop, blockEnd - this.rowsDone);
      this.writeRow(this.blockRowsDone, blockEnd - this.rowsDone);
      this.rowsDone = blockEnd;
      this.blockRowsDone++;
    }
  }

  /**
   * Adds up the blocks of `blockRows` rows from `top` (a row of the strip). Red and blue are summed packed in one
   * integer (red in the low 16 bits, blue in the high 16), which cannot carry over while a block has at most 257
   * pixels (257 · 255 < 2¹⁶); larger blocks take the plain loop.
   */
  private sumBlockRow(pixels: Uint32Array, top: number, blockRows: number): void {
    const { width, xFactor, outWidth, redBlue, green, blueWide, columnStarts } = this;
    redBlue.fill(0);
    green.fill(0);
    blueWide.fill(0);
    const packed = xFactor * blockRows <= 257;
    for (let y = top; y < top + blockRows; y++) {
      const rowStart = y * width;
      let i = rowStart;
      for (let ox = 0; ox < outWidth; ox++) {
        const end = rowStart + columnStarts[ox + 1]!;
        if (packed) {
          let rb = 0;
          let g = 0;
          for (; i < end; i++) {
            const v = pixels[i]!;
            rb += v & 0xff00ff;
            g += (v >>> 8) & 0xff;
          }
          redBlue[ox] = redBlue[ox]! + rb;
          green[ox] = green[ox]! + g;
        } else {
          let r = 0;
          let g = 0;
          let b = 0;
          for (; i < end; i++) {
            const v = pixels[i]!;
            r += v & 0xff;
            g += (v >>> 8) & 0xff;
            b += (v >>> 16) & 0xff;
          }
          redBlue[ox] = redBlue[ox]! + r;
          green[ox] = green[ox]! + g;
          blueWide[ox] = blueWide[ox]! + b;
        }
      }
    }
    if (!packed) return;
    for (let ox = 0; ox < outWidth; ox++) {
      const rb = redBlue[ox]!;
      redBlue[ox] = rb & 0xffff;
      blueWide[ox] = rb >>> 16;
    }
  }

  /** The reduced image; every row of the source must have been added. */
  result(): ReducedImage {
    if (this.rowsDone !== this.height)
      throw new RangeError(`Only ${this.rowsDone} of ${this.height} rows were added.`);
    return {
      image: { data: this.out, width: this.outWidth, height: this.outHeight },
      xFactor: this.xFactor,
      yFactor: this.yFactor,
      sourceWidth: this.width,
      sourceHeight: this.height,
    };
  }

  /** Output row `oy` from the block sums of `blockRows` source rows. */
  private writeRow(oy: number, blockRows: number): void {
    const { out, green, outWidth, columnStarts } = this;
    const [red, blue] =
      this.channelOrder === 'rgba' ? [this.redBlue, this.blueWide] : [this.blueWide, this.redBlue];
    for (let ox = 0; ox < outWidth; ox++) {
      const count = blockRows * (columnStarts[ox + 1]! - columnStarts[ox]!);
      const multiplier = blockMultiplier(count);
      const amend = Math.floor(count / 2);
      const o = (oy * outWidth + ox) * 4;
      // (sum + amend) · m < 2^53, so the float product is exact and the division is Pillow's >> 24.
      out[o] = Math.floor(((red[ox]! + amend) * multiplier) / 16777216);
      out[o + 1] = Math.floor(((green[ox]! + amend) * multiplier) / 16777216);
      out[o + 2] = Math.floor(((blue[ox]! + amend) * multiplier) / 16777216);
      out[o + 3] = 255;
    }
  }
}

/**
 * `image` turned clockwise by `degrees` (0, 90, 180, 270): what a VideoFrame's `rotation` asks for on display.
 * Display pixel (x, y) of a 90° turn is stored pixel (y, H − 1 − x).
 */
export function rotateClockwise(image: RgbaImage, degrees: 0 | 90 | 180 | 270): RgbaImage {
  if (degrees === 0) return image;
  const { width, height } = image;
  const source = new Uint32Array(image.data.buffer, image.data.byteOffset, width * height);
  const [outWidth, outHeight] = degrees === 180 ? [width, height] : [height, width];
  const out = new Uint32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const [sx, sy] =
        degrees === 90
          ? [y, height - 1 - x]
          : degrees === 180
            ? [width - 1 - x, height - 1 - y]
            : [width - 1 - y, x];
      out[y * outWidth + x] = source[sy * width + sx]!;
    }
  }
  return { data: new Uint8Array(out.buffer), width: outWidth, height: outHeight };
}
