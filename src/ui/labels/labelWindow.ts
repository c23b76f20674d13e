/**
 * Which rows of a long label list to put in the DOM: the rows that meet the visible part of the list's scroll box,
 * plus a few either side so a fast scroll does not show blank space (the idea of gridWindow.ts, for a list). Rows
 * have fixed heights known without measuring (a row with a vocabulary hint is one hint line taller), so the
 * offsets are prefix sums and the visible range is found by binary search. Pure maths, tested without a browser.
 */

/** Height of one label row plus the gap below it, in CSS pixels (the rows' inline style uses the same numbers). */
export const LABEL_ROW_HEIGHT = 36;
/** Extra height of a row that shows a vocabulary hint under the label (one line, cut with an ellipsis). */
export const LABEL_HINT_HEIGHT = 18;
/** Space between rows (part of LABEL_ROW_HEIGHT). */
export const LABEL_ROW_GAP = 2;
/** Below this many labels every row is rendered (no scroll box of its own); from it on, the list is windowed. */
export const WINDOW_LABELS_FROM = 150;

/** `offsets[i]` is the top of row i; `offsets[count]` the height of the whole list. */
export function rowOffsets(count: number, hasHint: (index: number) => boolean): Float64Array {
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i < count; i++)
    offsets[i + 1] = offsets[i]! + LABEL_ROW_HEIGHT + (hasHint(i) ? LABEL_HINT_HEIGHT : 0);
  return offsets;
}

/** Index of the row that contains `y` (clamped to the list). */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (offsets[middle]! <= y) low = middle;
    else high = middle - 1;
  }
  return low;
}

export interface LabelWindow {
  /** Index of the first row to render, and one past the last. */
  first: number;
  last: number;
}

/** The rows to render when the scroll box shows the list from `viewTop` to `viewTop + viewHeight`. */
export function labelWindow(
  offsets: Float64Array,
  viewTop: number,
  viewHeight: number,
  overscanRows = 4,
): LabelWindow {
  const count = offsets.length - 1;
  if (count <= 0) return { first: 0, last: 0 };
  const first = Math.max(0, rowAt(offsets, Math.max(0, viewTop)) - overscanRows);
  const last = Math.min(count, rowAt(offsets, viewTop + Math.max(0, viewHeight)) + 1 + overscanRows);
  return { first, last: Math.max(first, last) };
}

/** The scroll position that brings row `index` fully into view, moving as little as possible. */
export function scrollTopToShow(
  offsets: Float64Array,
  index: number,
  viewTop: number,
  viewHeight: number,
): number {
  const top = offsets[index] ?? 0;
  const bottom = offsets[index + 1] ?? top;
  if (top < viewTop) return top;
  if (bottom > viewTop + viewHeight) return Math.max(0, bottom - viewHeight);
  return viewTop;
}
