import { DEFAULT_LABEL_THRESHOLD } from '../../state/modeSlice';
import { memo, useRef, useState, type CSSProperties, type FormEvent, type KeyboardEvent } from 'react';
import { removeLabel, updateLabel } from '../../state/engineBridge';
import type { Label } from '../../state/labelsSlice';
import { useLensStore } from '../../state/store';

/** Where a row of a windowed list sits: absolutely placed, and its place in the whole list for screen readers. */
export interface RowPlacement {
  index: number;
  setSize: number;
  top: number;
  height: number;
}

interface LabelRowProps {
  label: Label;
  /** Images whose most probable label this is. */
  count: number;
  isSelected: boolean;
  isTruncated: boolean;
  /** "The demo model does not know ‘dog’", computed once per label list by the list (not per render here). */
  hint: string | null;
  /** Set in a windowed list; absent, the row flows in the list as usual. */
  placement?: RowPlacement;
}

function placementProps(label: Label, placement: RowPlacement | undefined) {
  if (!placement) return { 'data-label-id': label.id };
  const style: CSSProperties = { top: placement.top, height: placement.height };
  return {
    'data-label-id': label.id,
    style,
    'aria-posinset': placement.index + 1,
    'aria-setsize': placement.setSize,
  };
}

/** One label: click to rank the images by it, edit in place, or remove. */
export const LabelRow = memo(function LabelRow({
  label,
  count,
  isSelected,
  isTruncated,
  hint,
  placement,
}: LabelRowProps) {
  const mode = useLensStore((state) => state.classificationMode);
  const threshold = useLensStore((state) => state.labelThresholds[label.id] ?? DEFAULT_LABEL_THRESHOLD);
  const setLabelThreshold = useLensStore((state) => state.setLabelThreshold);
  const toggleSelectedLabel = useLensStore((state) => state.toggleSelectedLabel);
  const [draft, setDraft] = useState<string | null>(null);
  const [isInvalid, setIsInvalid] = useState(false);
  /** Set by Escape, so the blur that follows the input's removal does not save the abandoned draft. */
  const isAbandoned = useRef(false);

  const startEditing = () => {
    isAbandoned.current = false;
    setDraft(label.text);
  };
  const stopEditing = () => {
    setDraft(null);
    setIsInvalid(false);
  };
  const save = (event?: FormEvent) => {
    event?.preventDefault();
    if (draft === null || isAbandoned.current) return;
    if (draft.trim() === label.text || updateLabel(label.id, draft)) stopEditing();
    else setIsInvalid(true);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Escape') return;
    isAbandoned.current = true;
    stopEditing();
  };

  if (draft !== null) {
    return (
      <li className="label-row label-row--editing" {...placementProps(label, placement)}>
        <form className="label-row__form" onSubmit={save}>
          <input
            className="input input--small"
            aria-label={`Edit label ${label.text}`}
            aria-invalid={isInvalid || undefined}
            title={isInvalid ? 'Blank, or the same as another label' : undefined}
            value={draft}
            autoFocus
            onChange={(event) => {
              setDraft(event.target.value);
              setIsInvalid(false);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => save()}
          />
        </form>
      </li>
    );
  }

  return (
    <li
      className={isSelected ? 'label-row label-row--selected' : 'label-row'}
      {...placementProps(label, placement)}
    >
      <button
        type="button"
        className="label-row__name"
        aria-pressed={isSelected}
        aria-label={`Rank images by ${label.text}`}
        title="Rank the images by this label"
        onClick={() => toggleSelectedLabel(label.id)}
        onDoubleClick={startEditing}
      >
        <span className="label-row__text" dir="auto">
          {label.text}
        </span>
      </button>
      {/* Beside the button, not in it: its accessible name must hold all of its visible text (label-in-name). */}
      {isTruncated && (
        <span className="label-row__warning" title="A prompt for this label was too long and was cut">
          cut
        </span>
      )}
      {count > 0 && (
        <span
          className="label-row__count"
          title={mode === 'multi' ? `Applies to ${count} images` : `Top label of ${count} images`}
        >
          {count}
          <span className="visually-hidden">
            {mode === 'multi'
              ? ` ${count === 1 ? 'image' : 'images'} it applies to`
              : ` ${count === 1 ? 'image' : 'images'} with it on top`}
          </span>
        </span>
      )}
      {mode === 'multi' && (
        <input
          type="number"
          className="label-row__threshold"
          min={1}
          max={99}
          step={1}
          value={Math.round(threshold * 100)}
          aria-label={`Threshold for ${label.text} (%)`}
          title="This label applies to an image when its probability reaches this many percent"
          onChange={(event) => {
            const percent = Number(event.target.value);
            if (Number.isFinite(percent) && percent >= 1 && percent <= 99)
              setLabelThreshold(label.id, percent / 100);
          }}
        />
      )}
      <button
        type="button"
        className="icon-button"
        aria-label={`Edit label ${label.text}`}
        title="Edit"
        onClick={startEditing}
      >
        ✎
      </button>
      <button
        type="button"
        className="icon-button"
        aria-label={`Remove label ${label.text}`}
        title="Remove"
        onClick={() => removeLabel(label.id)}
      >
        ×
      </button>
      {hint && (
        <p className="label-row__hint" data-testid="label-hint" title={placement ? hint : undefined}>
          {hint}
        </p>
      )}
    </li>
  );
});
