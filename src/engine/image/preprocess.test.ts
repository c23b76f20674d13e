import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../test/python';
import { describeWithInputs } from '../../test/requiredInputs';
import { decodePng } from '../../test/pngDecoder';
import {
  ensurePreprocessFixtures,
  pythonAvailable,
  readBytes,
  readFloat32,
  type PreprocessFixtureIndex,
} from '../../test/preprocessFixtures';
import { boxReduce, reducingFactors } from './pilReduce';
import { centerCrop, normalizeToChw, preprocessImage, resizedSize, roundHalfToEven } from './preprocess';
import { compositeOnWhite } from './rgbImage';

const MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('torchvision geometry', () => {
  it('scales the shortest side and truncates the long side', () => {
    expect(resizedSize(451, 300, 224)).toEqual({ width: 336, height: 224 }); // 224·451/300 = 336.75
    expect(resizedSize(1, 300, 224)).toEqual({ width: 224, height: 67200 });
    expect(resizedSize(512, 512, 64)).toEqual({ width: 64, height: 64 });
    expect(resizedSize(300, 451, 224)).toEqual({ width: 224, height: 336 });
  });

  it("rounds halves to even, like Python's round", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, 2.4, 2.6].map(roundHalfToEven)).toEqual([0, 2, 2, 4, 0, 2, 3]);
  });

  it('centre-crops with half-to-even offsets', () => {
    expect(centerCrop(225, 224, 224)).toMatchObject({ left: 0, top: 0 }); // round(0.5) = 0
    expect(centerCrop(227, 230, 224)).toMatchObject({ left: 2, top: 3 }); // round(1.5) = 2, round(3) = 3
    expect(centerCrop(336, 224, 224)).toEqual({ left: 56, top: 0, width: 224, height: 224 });
  });
});

describe('compositeOnWhite', () => {
  it('keeps opaque pixels, turns transparent ones white, rounds partial alpha', () => {
    const rgba = new Uint8ClampedArray([10, 20, 30, 255, 10, 20, 30, 0, 0, 100, 255, 128]);
    const rgb = compositeOnWhite({ data: rgba, width: 3, height: 1 });
    // (0·128 + 255·127 + 127) / 255 = 127.5 → 127; (100·128 + 32512) / 255 = 177.7 → 177; 255 stays 255.
    expect(Array.from(rgb.data)).toEqual([10, 20, 30, 255, 255, 255, 255, 255, 127, 177, 255, 255]);
    expect(Array.from(rgba)).toEqual([10, 20, 30, 255, 10, 20, 30, 0, 0, 100, 255, 128]);
  });

  it('returns an opaque image without copying it', () => {
    const image = { data: new Uint8Array([1, 2, 3, 255]), width: 1, height: 1 };
    expect(compositeOnWhite(image)).toBe(image);
  });

  it('rejects data that does not match the size', () => {
    expect(() => compositeOnWhite({ data: new Uint8Array(8), width: 3, height: 1 })).toThrow(
      /does not match/,
    );
    expect(() => compositeOnWhite({ data: new Uint8Array(0), width: 0, height: 0 })).toThrow(/at least 1×1/);
  });
});

describe('normalizeToChw', () => {
  it('computes (v/255 − mean)/std per channel in float32, channels first', () => {
    const out = normalizeToChw(
      { data: new Uint8Array([255, 0, 51, 255, 255, 0, 51, 255]), width: 2, height: 1 },
      MEAN,
      STD,
    );
    const expected = (v: number, c: number) =>
      Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(MEAN[c]!)) / Math.fround(STD[c]!));
    expect(Array.from(out)).toEqual([
      expected(255, 0),
      expected(255, 0),
      expected(0, 1),
      expected(0, 1),
      expected(51, 2),
      expected(51, 2),
    ]);
    expect(out[0]).toBeCloseTo((1 - MEAN[0]) / STD[0], 5);
  });
});

describe('boxReduce', () => {
  it('averages blocks, including the partial last block', () => {
    // 5 pixels in one row, factor 2: blocks [0,10], [20,31], [40] → 5, 26 (25.5 rounded up), 40.
    const row = new Uint8Array([
      0, 0, 0, 255, 10, 10, 10, 255, 20, 20, 20, 255, 31, 31, 31, 255, 40, 40, 40, 255,
    ]);
    const out = boxReduce({ data: row, width: 5, height: 1 }, 2, 1);
    expect(out.width).toBe(3);
    expect(Array.from(out.data)).toEqual([5, 5, 5, 255, 26, 26, 26, 255, 40, 40, 40, 255]);
  });

  it('rounds the mean of a 3×3 block as Pillow does', () => {
    // 9 pixels summing to 13: (13 + 4) · ⌊2³²/2304⌋ >> 24 = 1 (the exact mean 1.44 rounds to 1 as well).
    const block = new Uint8Array(9 * 4);
    [5, 0, 0, 0, 8, 0, 0, 0, 0].forEach((v, p) => block.set([v, v, v, 255], p * 4));
    expect(Array.from(boxReduce({ data: block, width: 3, height: 3 }, 3, 3).data)).toEqual([1, 1, 1, 255]);
  });

  it("picks PIL's reducing_gap factors", () => {
    expect(reducingFactors(6000, 4000, 336, 224, 2)).toEqual([8, 8]);
    expect(reducingFactors(400, 300, 298, 224, 2)).toEqual([1, 1]);
  });
});

describeWithInputs(
  'parity with the PIL reference (models/eva_lens/preprocess.py)',
  pythonAvailable,
  `${PYTHON} with Debian torch, numpy and PIL (scripts/system-deps.sh)`,
  () => {
    let index: PreprocessFixtureIndex;
    beforeAll(() => {
      index = ensurePreprocessFixtures();
    }, 300_000);

    it('decodes every fixture PNG to the same RGBA bytes as PIL', () => {
      const pngs = [...new Set(index.entries.filter((e) => e.format === 'png').map((e) => e.source))];
      expect(pngs.length).toBeGreaterThanOrEqual(9);
      for (const source of pngs) {
        const entry = index.entries.find((e) => e.source === source)!;
        const decoded = decodePng(new Uint8Array(readFileSync(source)));
        expect([decoded.width, decoded.height], entry.image).toEqual([entry.width, entry.height]);
        expect(
          Buffer.compare(Buffer.from(decoded.data), Buffer.from(readBytes(entry.rgba))),
          entry.image,
        ).toBe(0);
      }
    }, 60_000);

    it('matches the reference exactly with the fast path off, and PIL reducing_gap=3 exactly with it on', () => {
      const report: string[] = [];
      let worstFastPathGap = 0;
      for (const entry of index.entries) {
        const rgba =
          entry.format === 'png'
            ? decodePng(new Uint8Array(readFileSync(entry.source)))
            : { data: readBytes(entry.rgba), width: entry.width, height: entry.height };
        const config = { size: entry.size, mean: index.mean, std: index.std };
        const exact = readFloat32(entry.exact);
        const label = `${entry.image}@${entry.size}`;
        expect(maxAbsDiff(preprocessImage(rgba, config, { reducingGap: null }), exact), label).toBe(0);
        const fast = preprocessImage(rgba, config);
        expect(
          maxAbsDiff(fast, entry.reduced ? readFloat32(entry.reduced) : exact),
          `${label} fast path`,
        ).toBe(0);
        if (entry.reduced) {
          const gap = maxAbsDiff(fast, exact);
          worstFastPathGap = Math.max(worstFastPathGap, gap);
          report.push(`${label} ×${entry.reduceFactors?.join('/')}: ${gap.toFixed(4)}`);
        }
      }
      console.info(`fast path vs reference, max |Δ| (normalised units): ${report.join('; ')}`);
      // One 8-bit level is 1/255/std ≈ 0.0146–0.0150; the box pre-shrink moves isolated edge pixels by up to 8 levels.
      expect(worstFastPathGap).toBeLessThan(0.13);
      // The plain reference over every fixture takes ~2 s alone and 10 s on a busy 2-core machine.
    }, 120_000);
  },
);

describe('large images', () => {
  it('preprocesses a 24-megapixel image quickly thanks to the box pre-shrink', () => {
    const width = 6000;
    const height = 4000;
    const data = new Uint8Array(width * height * 4);
    let seed = 1;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = i % 4 === 3 ? 255 : seed >>> 24;
    }
    const started = performance.now();
    const out = preprocessImage({ data, width, height }, { size: 224, mean: MEAN, std: STD });
    const ms = performance.now() - started;
    console.info(`24-MP preprocessing: ${ms.toFixed(0)} ms`);
    // Speed is the benchmark's job (npm run bench, BENCHMARKS.md), not a timed test's: only the result is checked.
    expect(out.length).toBe(3 * 224 * 224);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});
