import {
  useCallback,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type FocusEvent,
  type KeyboardEvent,
} from 'react';
import type { Label } from '../../state/labelsSlice';
import { selectTopLabelCounts, selectTruncatedLabelIds } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { labelHints } from '../../state/vocabulary';
import { LABEL_ROW_GAP, WINDOW_LABELS_FROM, labelWindow, rowOffsets, scrollTopToShow } from './labelWindow';
import { LabelRow } from './LabelRow';
import { useModelVocabulary } from './useModelVocabulary';

/** Before the scroll box is measured (first render), assume a box this tall. */
const ASSUMED_VIEW_HEIGHT = 600;

/**
 * The labels as a list. Up to WINDOW_LABELS_FROM labels every row is rendered; above, the list scrolls in its own
 * box and only the rows in view (± a few) are in the DOM, so 10,000 labels cost ~30 rows, not 60,000 elements. The
 * row that holds the focus (an edit in progress included) is always rendered, and the arrow keys move between
 * labels, scrolling the next one into view, since Tab reaches only the rendered rows.
 */
export function LabelList({ labels }: { labels: Label[] }) {
  const selectedLabelId = useLensStore((state) => state.selectedLabelId);
  const counts = useLensStore(selectTopLabelCounts);
  const truncated = useLensStore(selectTruncatedLabelIds);
  const known = useModelVocabulary();
  const isWindowed = labels.length >= WINDOW_LABELS_FROM;
  // Windowed, a closed-vocabulary model gives every row room for a hint line, so the heights are known without
  // checking 10,000 labels' words (~50 ms on a busy 2-core machine, inside the paste's task); the hints are then
  // worked out for the rendered rows only.
  const offsets = useMemo(
    () => (isWindowed ? rowOffsets(labels.length, () => known !== null) : null),
    [isWindowed, labels.length, known],
  );
  const hintOf = (index: number): string | null => labelHints([labels[index]!], known)[0] ?? null;
  const indexOf = (id: string | null | undefined): number | undefined => {
    if (id === null || id === undefined) return undefined;
    const index = labels.findIndex((label) => label.id === id);
    return index >= 0 ? index : undefined;
  };

  const scrollBox = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const [view, setView] = useState({ top: 0, height: ASSUMED_VIEW_HEIGHT });
  const [focusedId, setFocusedId] = useState<string | null>(null);
  /** A label the arrow keys moved to: rendered, then focused after the render that brings it in. */
  const [focusTarget, setFocusTarget] = useState<string | null>(null);

  const measure = useCallback(() => {
    const box = scrollBox.current;
    if (!box) return;
    setView((before) =>
      before.top === box.scrollTop && before.height === box.clientHeight
        ? before
        : { top: box.scrollTop, height: box.clientHeight },
    );
  }, []);

  useLayoutEffect(() => {
    if (!isWindowed) return;
    measure();
    const box = scrollBox.current;
    if (!box || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(box);
    return () => observer.disconnect();
  }, [isWindowed, measure]);

  useLayoutEffect(() => {
    if (focusTarget === null) return;
    const row = list.current?.querySelector<HTMLElement>(`[data-label-id="${CSS.escape(focusTarget)}"]`);
    // Its focus event clears the target (onFocus below); from then on the focus keeps the row rendered.
    row?.querySelector<HTMLElement>('.label-row__name')?.focus();
  }, [focusTarget]);

  const onFocus = (event: FocusEvent<HTMLUListElement>) => {
    const id = (event.target as HTMLElement).closest<HTMLElement>('[data-label-id]')?.dataset.labelId;
    if (id) setFocusedId(id);
    setFocusTarget(null);
  };
  const onBlur = (event: FocusEvent<HTMLUListElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setFocusedId(null);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const target = event.target as HTMLElement;
    if (!target.classList.contains('label-row__name')) return;
    const id = target.closest<HTMLElement>('[data-label-id]')?.dataset.labelId;
    const index = indexOf(id);
    if (index === undefined) return;
    const step: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      Home: 0,
      End: labels.length - 1,
    };
    const next = step[event.key];
    if (next === undefined || next < 0 || next >= labels.length) return;
    event.preventDefault();
    const box = scrollBox.current;
    if (offsets && box) {
      box.scrollTop = scrollTopToShow(offsets, next, box.scrollTop, box.clientHeight);
      measure();
    }
    setFocusTarget(labels[next]!.id);
  };

  const row = (label: Label, index: number) => (
    <LabelRow
      key={label.id}
      label={label}
      count={counts[label.id] ?? 0}
      isSelected={label.id === selectedLabelId}
      isTruncated={truncated.has(label.id)}
      hint={hintOf(index)}
      placement={
        offsets
          ? {
              index,
              setSize: labels.length,
              top: offsets[index]!,
              height: offsets[index + 1]! - offsets[index]! - LABEL_ROW_GAP,
            }
          : undefined
      }
    />
  );

  const listProps = {
    ref: list,
    'data-testid': 'label-list',
    'aria-label': 'Labels',
    onFocus,
    onBlur,
    onKeyDown,
  };

  if (!offsets) {
    return (
      <ul className="label-list" {...listProps}>
        {labels.map(row)}
      </ul>
    );
  }

  const { first, last } = labelWindow(offsets, view.top, view.height);
  const rendered: number[] = [];
  for (let i = first; i < last; i++) rendered.push(i);
  // The focused row (an edit in progress too) and the arrow keys' target stay rendered wherever the box scrolled.
  for (const id of [focusedId, focusTarget]) {
    const index = indexOf(id);
    if (index !== undefined && (index < first || index >= last) && !rendered.includes(index))
      rendered.push(index);
  }
  rendered.sort((a, b) => a - b);

  return (
    <div className="label-scroll" ref={scrollBox} onScroll={measure} data-testid="label-scroll">
      <ul
        className="label-list label-list--windowed"
        style={{ height: offsets[labels.length] }}
        {...listProps}
      >
        {rendered.map((index) => row(labels[index]!, index))}
      </ul>
    </div>
  );
}
