import { describe, expect, it } from 'vitest';
import {
  LABEL_HINT_HEIGHT,
  LABEL_ROW_HEIGHT,
  labelWindow,
  rowAt,
  rowOffsets,
  scrollTopToShow,
} from './labelWindow';

const H = LABEL_ROW_HEIGHT;

describe('label list window', () => {
  it('places rows by prefix sums; a row with a hint is one hint line taller', () => {
    const offsets = rowOffsets(4, (i) => i === 1);
    expect(Array.from(offsets)).toEqual([
      0,
      H,
      2 * H + LABEL_HINT_HEIGHT,
      3 * H + LABEL_HINT_HEIGHT,
      4 * H + LABEL_HINT_HEIGHT,
    ]);
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, H - 1)).toBe(0);
    expect(rowAt(offsets, H)).toBe(1);
    expect(rowAt(offsets, 2 * H + LABEL_HINT_HEIGHT)).toBe(2);
    expect(rowAt(offsets, 1e9)).toBe(3);
    expect(rowAt(offsets, -50)).toBe(0);
  });

  it('renders the rows in view plus the overscan, clamped to the list', () => {
    const offsets = rowOffsets(10_000, () => false);
    expect(labelWindow(offsets, 0, 10 * H, 4)).toEqual({ first: 0, last: 15 });
    // Scrolled to row 5,000: rows 4,996 … 5,014 (the view ends inside row 5,010).
    expect(labelWindow(offsets, 5000 * H, 10 * H + 1, 4)).toEqual({ first: 4996, last: 5015 });
    expect(labelWindow(offsets, 9995 * H, 10 * H, 4)).toEqual({ first: 9991, last: 10_000 });
  });

  it('is a handful of rows for 10,000 labels whatever the scroll position', () => {
    const offsets = rowOffsets(10_000, (i) => i % 3 === 0);
    for (const top of [0, 1234, 200_000, offsets[10_000]! - 500]) {
      const { first, last } = labelWindow(offsets, top, 500);
      expect(last - first).toBeLessThan(30);
      expect(offsets[first]!).toBeLessThanOrEqual(top);
      expect(offsets[last] ?? Infinity).toBeGreaterThanOrEqual(Math.min(top + 500, offsets[10_000]!));
    }
  });

  it('handles an empty list', () => {
    expect(
      labelWindow(
        rowOffsets(0, () => false),
        0,
        500,
      ),
    ).toEqual({ first: 0, last: 0 });
  });

  it('scrolls as little as needed to show a row', () => {
    const offsets = rowOffsets(100, () => false);
    expect(scrollTopToShow(offsets, 5, 0, 10 * H)).toBe(0);
    expect(scrollTopToShow(offsets, 12, 0, 10 * H)).toBe(13 * H - 10 * H);
    expect(scrollTopToShow(offsets, 2, 20 * H, 10 * H)).toBe(2 * H);
  });
});
