import { describe, expect, it } from 'vitest';
import {
  cosineScores,
  cosineSimilarity,
  l2Normalize,
  l2NormalizeRows,
  softmaxWithScale,
  topK,
} from './ranking';

describe('l2Normalize', () => {
  it('scales a 3-4-5 vector to unit length', () => {
    expect(Array.from(l2Normalize(new Float32Array([3, 4])))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('keeps a zero vector at zero instead of NaN', () => {
    expect(Array.from(l2Normalize(new Float32Array([0, 0, 0])))).toEqual([0, 0, 0]);
  });

  it('does not modify its input', () => {
    const v = new Float32Array([3, 4]);
    l2Normalize(v);
    expect(Array.from(v)).toEqual([3, 4]);
  });

  it('normalises each row of a matrix on its own', () => {
    const rows = l2NormalizeRows(new Float32Array([3, 4, 0, 2]), 2);
    expect(Array.from(rows)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 1]);
    expect(() => l2NormalizeRows(new Float32Array(3), 2)).toThrow(RangeError);
  });
});

describe('cosineSimilarity', () => {
  it('is 1/sqrt(2) at 45 degrees, 0 at 90 degrees, -1 opposite', () => {
    expect(cosineSimilarity([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
    expect(cosineSimilarity([2, 2], [-1, -1])).toBeCloseTo(-1, 12);
  });

  it('ignores the length of the vectors', () => {
    expect(cosineSimilarity([1, 2, 3], [10, 20, 30])).toBeCloseTo(1, 12);
  });

  it('rejects vectors of different lengths', () => {
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(RangeError);
  });
});

describe('cosineScores', () => {
  it('gives the dot product with every label row', () => {
    const image = new Float32Array([0.6, 0.8]);
    const labels = new Float32Array([1, 0, 0, 1, 0.6, 0.8]);
    const scores = cosineScores(image, labels, 2);
    expect(scores[0]).toBeCloseTo(0.6, 6);
    expect(scores[1]).toBeCloseTo(0.8, 6);
    expect(scores[2]).toBeCloseTo(1, 6);
  });

  it('rejects an image embedding of the wrong dimension', () => {
    expect(() => cosineScores(new Float32Array(3), new Float32Array(4), 2)).toThrow(/dimension is 2/);
  });
});

describe('softmaxWithScale', () => {
  it('matches a hand-computed softmax', () => {
    // exp(0) = 1 and exp(ln 2) = 2, so the probabilities are 1/3 and 2/3.
    const p = softmaxWithScale(new Float32Array([0, Math.LN2]), 1);
    expect(p[0]).toBeCloseTo(1 / 3, 6);
    expect(p[1]).toBeCloseTo(2 / 3, 6);
  });

  it('applies the logit scale before the softmax', () => {
    // 100 × (0.21 − 0.20) = 1, so p = [1/(1+e), e/(1+e)].
    const p = softmaxWithScale(new Float32Array([0.2, 0.21]), 100);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.E), 5);
    expect(p[1]).toBeCloseTo(Math.E / (1 + Math.E), 5);
  });

  it('does not overflow with large logits', () => {
    const p = softmaxWithScale(new Float32Array([10, 9]), 100);
    expect(p[0]).toBeCloseTo(1, 12);
    expect(Number.isFinite(p[1])).toBe(true);
    expect(softmaxWithScale(new Float32Array([]), 100)).toHaveLength(0);
  });
});

describe('topK', () => {
  it('returns the best k, best first, ties in index order', () => {
    expect(topK([0.1, 0.5, 0.5, 0.2], 3)).toEqual([
      { index: 1, score: 0.5 },
      { index: 2, score: 0.5 },
      { index: 3, score: 0.2 },
    ]);
  });

  it('copes with k larger than the list and with k = 0', () => {
    expect(topK(new Float32Array([1, 2]), 10).map((e) => e.index)).toEqual([1, 0]);
    expect(topK([1, 2], 0)).toEqual([]);
  });
});
