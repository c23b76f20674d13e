/**
 * What a file really is, read from its first bytes: the format by its magic number (a name or MIME type can lie: a
 * PDF renamed to .jpg) and, for the common formats, the pixel size from the header. The size is what lets the
 * decoder refuse a decompression bomb — a PNG of a few KB that claims 30000 × 30000 — before the browser allocates
 * gigabytes to decode it.
 */

export type SniffedFormat =
  'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif' | 'heic' | 'pdf' | 'html' | 'svg';

export interface ImageHeader {
  format: SniffedFormat;
  /** Pixel size as the header states it; null when the header does not say within the bytes read. */
  width: number | null;
  height: number | null;
}

/** Bytes read for sniffing: a JPEG's size comes after its EXIF block, which phones write up to 64 KB long. */
export const HEADER_BYTES = 256 * 1024;

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const i32le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

function sized(format: SniffedFormat, width: number | null, height: number | null): ImageHeader {
  return { format, width, height };
}

/** The format and size the first bytes of a file declare, or null for anything unrecognised. */
export function sniffImageHeader(bytes: Uint8Array): ImageHeader | null {
  const has = (n: number) => bytes.length >= n;
  if (has(8) && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') {
    return has(24) && ascii(bytes, 12, 4) === 'IHDR'
      ? sized('png', u32be(bytes, 16), u32be(bytes, 20))
      : sized('png', null, null);
  }
  if (has(3) && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return sniffJpeg(bytes);
  if (has(6) && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) {
    return has(10) ? sized('gif', u16le(bytes, 6), u16le(bytes, 8)) : sized('gif', null, null);
  }
  if (has(12) && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return sniffWebp(bytes);
  if (has(2) && ascii(bytes, 0, 2) === 'BM') {
    return has(26)
      ? sized('bmp', Math.abs(i32le(bytes, 18)), Math.abs(i32le(bytes, 22)))
      : sized('bmp', null, null);
  }
  if (has(12) && ascii(bytes, 4, 4) === 'ftyp') return sniffIsoMedia(bytes);
  if (has(5) && ascii(bytes, 0, 5) === '%PDF-') return sized('pdf', null, null);
  const markup = sniffMarkup(bytes);
  return markup ? sized(markup, null, null) : null;
}

/**
 * A web page or an SVG drawing: text that starts (after a byte-order mark, blanks and an XML prolog or comments)
 * with an HTML or SVG tag. Only the first kilobyte is read, as text.
 */
function sniffMarkup(bytes: Uint8Array): 'html' | 'svg' | null {
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (!head.startsWith('<')) return null;
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/.test(head)) return 'svg';
  if (/^(<!--[\s\S]*?-->\s*)*<(!doctype html|html|head|body|meta|title|script|div|p)[\s>]/.test(head))
    return 'html';
  return null;
}

/** Walks the JPEG segments up to the first start-of-frame marker, which holds the size. */
function sniffJpeg(b: Uint8Array): ImageHeader {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return sized('jpeg', null, null);
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // Fill byte.
      continue;
    }
    // SOF0–SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return sized('jpeg', u16be(b, i + 7), u16be(b, i + 5));
    }
    if (marker === 0xda || marker === 0xd9) break; // Start of scan or end of image: no frame header found.
    i += 2 + u16be(b, i + 2);
  }
  return sized('jpeg', null, null);
}

function sniffWebp(b: Uint8Array): ImageHeader {
  const chunk = b.length >= 16 ? ascii(b, 12, 4) : '';
  if (chunk === 'VP8 ' && b.length >= 30) return sized('webp', u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X' && b.length >= 30) return sized('webp', u24le(b, 24) + 1, u24le(b, 27) + 1);
  return sized('webp', null, null);
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/** AVIF and HEIC/HEIF share the ISO media container: the brand says which; the `ispe` box gives the size. */
function sniffIsoMedia(b: Uint8Array): ImageHeader | null {
  const boxSize = u32be(b, 0);
  const brands = [ascii(b, 8, 4)];
  for (let i = 16; i + 4 <= Math.min(boxSize, b.length); i += 4) brands.push(ascii(b, i, 4));
  // A file that lists avif among its compatible brands is an AVIF even when its major brand is the generic mif1.
  const format = brands.some((brand) => AVIF_BRANDS.has(brand))
    ? 'avif'
    : brands.some((brand) => HEIC_BRANDS.has(brand))
      ? 'heic'
      : null;
  if (!format) return null;
  // 'ispe' boxes: 'ispe', version and flags, width, height. Thumbnails and tiles have their own; the largest is
  // the full image.
  let best: ImageHeader = sized(format, null, null);
  for (let i = 0; i + 16 <= b.length; i++) {
    if (b[i] === 0x69 && b[i + 1] === 0x73 && b[i + 2] === 0x70 && b[i + 3] === 0x65) {
      const width = u32be(b, i + 8);
      const height = u32be(b, i + 12);
      if (width * height > (best.width ?? 0) * (best.height ?? 0)) best = sized(format, width, height);
    }
  }
  return best;
}
