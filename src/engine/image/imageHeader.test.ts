import { describe, expect, it } from 'vitest';
import { sniffImageHeader } from './imageHeader';

const bytes = (...parts: (number[] | string)[]) =>
  Uint8Array.from(
    parts.flatMap((part) => (typeof part === 'string' ? [...part].map((c) => c.charCodeAt(0)) : part)),
  );
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const le32 = (n: number) => [...le16(n & 0xffff), ...le16(n >>> 16)];

describe('sniffImageHeader', () => {
  it('reads PNG, GIF and BMP sizes from their headers', () => {
    const png = bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a], be32(13), 'IHDR', be32(30000), be32(2));
    expect(sniffImageHeader(png)).toEqual({ format: 'png', width: 30000, height: 2 });
    expect(sniffImageHeader(bytes('GIF89a', le16(640), le16(480)))).toEqual({
      format: 'gif',
      width: 640,
      height: 480,
    });
    const bmp = bytes('BM', new Array(16).fill(0), le32(800), le32(-600 >>> 0));
    expect(sniffImageHeader(bmp)).toEqual({ format: 'bmp', width: 800, height: 600 });
  });

  it('walks JPEG segments (EXIF first) to the frame header, and stops at garbage', () => {
    const exif = [0xff, 0xe1, ...be16(2 + 6), ...'Exif\0\0'.split('').map((c) => c.charCodeAt(0))];
    const sof = [0xff, 0xc2, ...be16(17), 8, ...be16(3024), ...be16(4032), 3];
    expect(sniffImageHeader(bytes([0xff, 0xd8], exif, sof, new Array(12).fill(0)))).toEqual({
      format: 'jpeg',
      width: 4032,
      height: 3024,
    });
    // Truncated before the frame header: the format is known, the size is not.
    expect(sniffImageHeader(bytes([0xff, 0xd8, 0xff, 0xe1, 0x40, 0x00, 1, 2, 3]))).toEqual({
      format: 'jpeg',
      width: null,
      height: null,
    });
  });

  it('reads the three WebP flavours', () => {
    const riff = (chunk: string, body: number[]) => bytes('RIFF', le32(100), 'WEBP', chunk, le32(10), body);
    expect(sniffImageHeader(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(320), ...le16(240)]))).toEqual({
      format: 'webp',
      width: 320,
      height: 240,
    });
    const bits = (320 - 1) | ((240 - 1) << 14);
    expect(sniffImageHeader(riff('VP8L', [0x2f, ...le32(bits)]))).toEqual({
      format: 'webp',
      width: 320,
      height: 240,
    });
    expect(sniffImageHeader(riff('VP8X', [0, 0, 0, 0, ...le24(1999), ...le24(999)]))).toEqual({
      format: 'webp',
      width: 2000,
      height: 1000,
    });
  });

  it('tells AVIF from HEIC by brand and takes the largest ispe box', () => {
    const ispe = (w: number, h: number) => [
      ...be32(20),
      ...'ispe'.split('').map((c) => c.charCodeAt(0)),
      0,
      0,
      0,
      0,
      ...be32(w),
      ...be32(h),
    ];
    const heic = bytes(be32(24), 'ftypheic', be32(0), 'mif1heic', ispe(512, 512), ispe(4032, 3024));
    expect(sniffImageHeader(heic)).toEqual({ format: 'heic', width: 4032, height: 3024 });
    const avif = bytes(be32(24), 'ftypmif1', be32(0), 'mif1avif', ispe(1920, 1080));
    expect(sniffImageHeader(avif)).toEqual({ format: 'avif', width: 1920, height: 1080 });
    expect(sniffImageHeader(bytes(be32(16), 'ftypisom', be32(0)))).toBeNull();
  });

  it('knows a PDF, and nothing about text or empty input', () => {
    expect(sniffImageHeader(bytes('%PDF-1.7\n'))).toEqual({ format: 'pdf', width: null, height: null });
    expect(sniffImageHeader(bytes('hello, world'))).toBeNull();
    expect(sniffImageHeader(new Uint8Array())).toBeNull();
  });

  it('knows a web page and an SVG drawing by their first tags, whatever the name', () => {
    const none = { width: null, height: null };
    expect(sniffImageHeader(bytes([0xef, 0xbb, 0xbf], '  <!DOCTYPE html>\n<html>'))).toEqual({
      format: 'html',
      ...none,
    });
    expect(sniffImageHeader(bytes('<html lang="en"><head>'))).toEqual({ format: 'html', ...none });
    expect(sniffImageHeader(bytes('<?xml version="1.0"?>\n<!-- made by hand -->\n<svg width="1">'))).toEqual({
      format: 'svg',
      ...none,
    });
    expect(sniffImageHeader(bytes('<svg xmlns="http://www.w3.org/2000/svg">'))).toEqual({
      format: 'svg',
      ...none,
    });
    expect(sniffImageHeader(bytes('<note>not markup we know</note>'))).toBeNull();
  });
});
