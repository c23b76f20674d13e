import { describe, expect, it } from 'vitest';
import { columnCount, gridWindow, type GridGeometry } from './gridWindow';

const geometry: GridGeometry = {
  count: 2000,
  width: 1000,
  minColumnWidth: 190,
  gap: 14,
  bodyHeight: 150,
  thumbAspect: 0.75,
};

describe('columnCount', () => {
  it('fits as many minimum-width columns as CSS auto-fill does', () => {
    expect(columnCount(1000, 190, 14)).toBe(4); // 5 columns need 5×190 + 4×14 = 1006 px
    expect(columnCount(1006, 190, 14)).toBe(5);
    expect(columnCount(100, 190, 14)).toBe(1); // never fewer than one
  });
});

describe('gridWindow', () => {
  it('renders the visible rows and two rows either side, at the right offset', () => {
    const window = gridWindow(geometry, 1000, 1800);
    // 4 columns of (1000 − 3×14)/4 = 239.5 px: card 239.5×0.75 + 150 = 329.6 → 330 px, stride 344 px.
    expect(window.columns).toBe(4);
    expect(window.cardHeight).toBe(330);
    expect(window.totalHeight).toBe(500 * 344 - 14);
    // Rows 2..5 meet [1000, 1800]; with two rows of overscan: rows 0..8 (row 8 exclusive of ceil + 2 = 8).
    expect(window.first).toBe(0);
    expect(window.last).toBe(8 * 4);
    expect(window.offsetTop).toBe(0);
  });

  it('starts later rows at their own offset', () => {
    const window = gridWindow(geometry, 344 * 100, 344 * 100 + 800);
    expect(window.first).toBe(98 * 4);
    expect(window.offsetTop).toBe(98 * 344);
    expect(window.last).toBe(Math.ceil((344 * 100 + 800) / 344 + 2) * 4);
  });

  it('clamps at the end of the grid and for a grid below the screen', () => {
    const end = gridWindow(geometry, 500 * 344, 500 * 344 + 800);
    expect(end.last).toBe(2000);
    expect(end.first).toBeLessThanOrEqual(end.last);
    const below = gridWindow(geometry, -2000, -1200);
    expect(below.first).toBe(0);
    expect(below.last).toBe(0);
  });

  it('handles an empty grid and a last row that is not full', () => {
    expect(gridWindow({ ...geometry, count: 0 }, 0, 800)).toMatchObject({
      first: 0,
      last: 0,
      totalHeight: 0,
    });
    const partial = gridWindow({ ...geometry, count: 5 }, 0, 5000);
    expect(partial.last).toBe(5);
    expect(partial.totalHeight).toBe(2 * 344 - 14);
  });
});
