/**
 * Which cards of a long grid to put in the DOM: the rows that meet the visible part of the scroll area, plus a
 * few rows either side so a fast scroll does not show blank space. Pure maths, so it is tested without a browser.
 */

export interface GridGeometry {
  /** Number of cards in the whole grid. */
  count: number;
  /** Width of the grid's box in CSS pixels. */
  width: number;
  /** Narrowest a column may be; the same value as `minmax(…, 1fr)` in the CSS grid. */
  minColumnWidth: number;
  /** Space between columns and between rows. */
  gap: number;
  /** Height of a card's text below its thumbnail (the thumbnail's own height follows the column width). */
  bodyHeight: number;
  /** Thumbnail height ÷ width (4:3 thumbnails: 0.75). */
  thumbAspect: number;
}

export interface GridWindow {
  columns: number;
  /** Height of one card. */
  cardHeight: number;
  /** Height of the whole grid as if every card were there, so the scroll bar stays true. */
  totalHeight: number;
  /** Index of the first card to render, and one past the last. */
  first: number;
  last: number;
  /** Distance from the grid's top to the first rendered row. */
  offsetTop: number;
}

/** Columns as CSS `repeat(auto-fill, minmax(min, 1fr))` lays them out: as many as fit at the minimum width. */
export function columnCount(width: number, minColumnWidth: number, gap: number): number {
  return Math.max(1, Math.floor((width + gap) / (minColumnWidth + gap)));
}

/**
 * The window for a viewport that shows the grid from `viewTop` to `viewBottom`, both measured from the grid's
 * top edge (negative when the grid starts below the top of the screen).
 */
export function gridWindow(
  geometry: GridGeometry,
  viewTop: number,
  viewBottom: number,
  overscanRows = 2,
): GridWindow {
  const { count, width, minColumnWidth, gap, bodyHeight, thumbAspect } = geometry;
  const columns = columnCount(width, minColumnWidth, gap);
  const columnWidth = Math.max(0, (width - gap * (columns - 1)) / columns);
  const cardHeight = Math.round(columnWidth * thumbAspect + bodyHeight);
  const rowStride = cardHeight + gap;
  const rows = Math.ceil(count / columns);
  const totalHeight = rows === 0 ? 0 : rows * rowStride - gap;
  const firstRow = clamp(Math.floor(viewTop / rowStride) - overscanRows, 0, rows);
  const lastRow = clamp(Math.ceil(viewBottom / rowStride) + overscanRows, firstRow, rows);
  return {
    columns,
    cardHeight,
    totalHeight,
    first: Math.min(count, firstRow * columns),
    last: Math.min(count, lastRow * columns),
    offsetTop: firstRow * rowStride,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
