import { describe, expect, it } from 'vitest';
import { l2Normalize } from './ranking';
import { dot, nearDuplicateGroups } from './similarity';

const v = (...values: number[]) => l2Normalize(Float32Array.from(values));

describe('nearDuplicateGroups', () => {
  it('links pairs above the threshold into groups (single linkage) and leaves singletons out', () => {
    const a = v(1, 0, 0);
    const a2 = v(0.99, 0.141, 0); // cos(a, a2) ≈ 0.990
    const a3 = v(0.96, 0.28, 0); // cos(a2, a3) ≈ 0.990, cos(a, a3) = 0.96
    const b = v(0, 1, 0);
    const c = v(0, 0, 1);
    const c2 = v(0, 0.1, 0.995);
    const groups = nearDuplicateGroups([a, b, a2, c, a3, c2], 0.985);
    expect(groups.map((group) => group.members)).toEqual([
      [0, 2, 4],
      [3, 5],
    ]);
    expect(groups[0]!.weakestLink).toBeCloseTo(Math.min(dot(a, a2), dot(a2, a3)), 6);
  });

  it('returns nothing when no pair reaches the threshold, or for fewer than two images', () => {
    expect(nearDuplicateGroups([v(1, 0), v(0, 1)], 0.9)).toEqual([]);
    expect(nearDuplicateGroups([v(1, 0)], 0.9)).toEqual([]);
    expect(nearDuplicateGroups([], 0.9)).toEqual([]);
  });
});
