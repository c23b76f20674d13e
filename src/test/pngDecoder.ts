/**
 * A small PNG decoder for tests (node:zlib inflate, no dependencies): non-interlaced PNGs of every colour type with
 * 1–8-bit samples, palette and colour-key transparency. Returns RGBA bytes the way the browser's ImageData holds
 * them, so tests can feed real PNG files through the app's preprocessing.
 */
import { inflateSync } from 'node:zlib';
import type { RgbaImage } from '../engine/image/rgbImage';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

export function decodePng(file: Uint8Array): RgbaImage & { data: Uint8Array } {
  if (!SIGNATURE.every((b, i) => file[i] === b)) throw new Error('Not a PNG file (bad signature).');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let offset = 8; offset < file.length;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...file.subarray(offset + 4, offset + 8));
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      if (body[12] !== 0) throw new Error('Interlaced PNGs are not supported by this test decoder.');
      header = {
        width: view.getUint32(offset + 8),
        height: view.getUint32(offset + 12),
        bitDepth: body[8]!,
        colorType: body[9]!,
      };
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR.');
  const channels = CHANNELS[header.colorType];
  if (channels === undefined) throw new Error(`Unknown PNG colour type ${header.colorType}.`);
  if (header.bitDepth > 8) throw new Error('16-bit PNGs are not supported by this test decoder.');
  const raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  const samples = unfilter(raw, header, channels);
  return {
    data: toRgba(samples, header, channels, palette, transparency),
    width: header.width,
    height: header.height,
  };
}

/** Reverses the per-row filters; returns the packed rows without filter bytes. */
function unfilter(raw: Uint8Array, h: Header, channels: number): Uint8Array {
  const bitsPerPixel = channels * h.bitDepth;
  const stride = Math.ceil((h.width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const out = new Uint8Array(stride * h.height);
  for (let y = 0; y < h.height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? out.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? row[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) predictor = paeth(a, b, c);
      else if (filter !== 0) throw new Error(`Bad PNG filter ${filter} in row ${y}.`);
      row[x] = (src[x]! + predictor) & 255;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function toRgba(
  samples: Uint8Array,
  h: Header,
  channels: number,
  palette: Uint8Array | null,
  transparency: Uint8Array | null,
): Uint8Array {
  const stride = Math.ceil((h.width * channels * h.bitDepth) / 8);
  const maxValue = (1 << h.bitDepth) - 1;
  const sample = (y: number, index: number): number => {
    if (h.bitDepth === 8) return samples[y * stride + index]!;
    const bit = index * h.bitDepth;
    const byte = samples[y * stride + (bit >> 3)]!;
    return (byte >> (8 - h.bitDepth - (bit & 7))) & maxValue;
  };
  const scale = (v: number) => (h.colorType === 3 ? v : Math.round((v * 255) / maxValue));
  const key =
    transparency && h.colorType !== 3
      ? Array.from(
          { length: transparency.length / 2 },
          (_, i) => (transparency[2 * i]! << 8) | transparency[2 * i + 1]!,
        )
      : null;
  const out = new Uint8Array(h.width * h.height * 4);
  for (let y = 0, o = 0; y < h.height; y++) {
    for (let x = 0; x < h.width; x++, o += 4) {
      const v = Array.from({ length: channels }, (_, c) => sample(y, x * channels + c));
      if (h.colorType === 3) {
        if (!palette || v[0]! * 3 + 2 >= palette.length) throw new Error('PNG palette index out of range.');
        out.set(palette.subarray(v[0]! * 3, v[0]! * 3 + 3), o);
        out[o + 3] = transparency && v[0]! < transparency.length ? transparency[v[0]!]! : 255;
        continue;
      }
      const gray = channels <= 2;
      const [r, g, b] = gray ? [v[0]!, v[0]!, v[0]!] : [v[0]!, v[1]!, v[2]!];
      out[o] = scale(r);
      out[o + 1] = scale(g);
      out[o + 2] = scale(b);
      let alpha = channels === 2 ? scale(v[1]!) : channels === 4 ? scale(v[3]!) : 255;
      if (key && (gray ? v[0] === key[0] : r === key[0] && g === key[1] && b === key[2])) alpha = 0;
      out[o + 3] = alpha;
    }
  }
  return out;
}
