import { describe, expect, it } from 'vitest';
import { independentProbabilities, labelCentroid, sigmoid, softmaxWithNone } from './labelDecisions';
import { cosineScores, l2Normalize, softmaxWithScale } from './ranking';

const labels = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]); // three orthogonal labels

describe('labelCentroid', () => {
  it('is the normalised mean of the label rows', () => {
    const third = 1 / Math.sqrt(3);
    expect(Array.from(labelCentroid(labels, 3))).toEqual([third, third, third].map((v) => Math.fround(v)));
  });
});

describe('independentProbabilities', () => {
  it('gives each label its odds against an average competitor: 0.5 for a label as likely as the average', () => {
    const equal = independentProbabilities(Float32Array.from([0.25, 0.25, 0.25]), 100);
    for (const p of equal) expect(p).toBeCloseTo(0.5, 6);
    // Two labels that fit alike both pass 0.5; the third, 10 cosine points lower, does not.
    const two = independentProbabilities(Float32Array.from([0.3, 0.3, 0.2]), 100);
    expect(two[0]).toBeGreaterThan(0.5);
    expect(two[1]).toBeCloseTo(two[0]!, 6);
    expect(two[2]).toBeLessThan(1e-3);
    const share = softmaxWithScale(Float32Array.from([0.3, 0.3, 0.2]), 100)[0]!;
    expect(two[0]).toBeCloseTo(sigmoid(Math.log(3 * share)), 6);
  });

  it('counts the anchor as one more competitor, and does not overflow', () => {
    const withAnchor = independentProbabilities(Float32Array.from([0.2, 0.2]), 100, 0.3);
    expect(withAnchor[0]).toBeLessThan(0.05);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    const big = independentProbabilities(Float32Array.from([9, 8]), 1000);
    expect(Number.isFinite(big[0]!) && Number.isFinite(big[1]!)).toBe(true);
  });
});

describe('softmaxWithNone', () => {
  it('adds the anchor as one more class and sums to 1', () => {
    const cosines = Float32Array.from([0.3, 0.1]);
    const { probabilities, none } = softmaxWithNone(cosines, 0.2, 100);
    expect(probabilities[0]! + probabilities[1]! + none).toBeCloseTo(1, 6);
    const withAnchor = softmaxWithScale(Float32Array.from([0.3, 0.1, 0.2]), 100);
    expect(none).toBeCloseTo(withAnchor[2]!, 6);
  });

  it('says "none of these" for an image that fits no label, and a label for one that fits', () => {
    const centroid = labelCentroid(labels, 3);
    const between = l2Normalize(Float32Array.from([1, 1, 1.1])); // like all labels a little, none well
    const fits = l2Normalize(Float32Array.from([1, 0.1, 0.1]));
    for (const [image, expectNone] of [
      [between, true],
      [fits, false],
    ] as const) {
      const cosines = cosineScores(image, labels, 3);
      const anchor = cosineScores(image, centroid, 3)[0]!;
      const { probabilities, none } = softmaxWithNone(cosines, anchor, 100);
      expect(none > Math.max(...probabilities), JSON.stringify({ cosines, anchor })).toBe(expectNone);
    }
  });
});
