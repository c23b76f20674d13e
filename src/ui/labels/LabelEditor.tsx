import { useState, type FormEvent } from 'react';
import { addLabel } from '../../state/engineBridge';
import { selectTopLabelCounts, selectTruncatedLabelIds } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { LabelRow } from './LabelRow';
import { LabelTools } from './LabelTools';
import { ModeControls } from '../results/ModeControls';
import { PasteLabels } from './PasteLabels';

/** The labels the images are classified into: add with Enter, edit in place, paste a list. */
export function LabelEditor() {
  const labels = useLensStore((state) => state.labels);
  const selectedLabelId = useLensStore((state) => state.selectedLabelId);
  const embeddingStatus = useLensStore((state) => state.labelEmbeddingStatus);
  const embeddingError = useLensStore((state) => state.labelEmbeddingError);
  const counts = useLensStore(selectTopLabelCounts);
  const truncated = useLensStore(selectTruncatedLabelIds);
  const [draft, setDraft] = useState('');
  const [rejected, setRejected] = useState<string | null>(null);
  const [isPasting, setIsPasting] = useState(false);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim() === '') return;
    if (addLabel(draft)) {
      setDraft('');
      setRejected(null);
    } else {
      setRejected(`"${draft.trim()}" is already a label.`);
    }
  };

  return (
    <section className="panel" aria-labelledby="labels-heading">
      <div className="panel__head">
        <h2 id="labels-heading" className="panel__title">
          Labels
        </h2>
        <span className="panel__meta" aria-live="polite">
          {embeddingStatus === 'embedding' ? 'Embedding…' : `${labels.length}`}
        </span>
        <button
          type="button"
          className="button button--quiet button--small"
          aria-label="Paste a list of labels"
          aria-expanded={isPasting}
          onClick={() => setIsPasting((value) => !value)}
        >
          Paste a list
        </button>
      </div>

      <LabelTools />
      <ModeControls />
      {isPasting ? (
        <PasteLabels onClose={() => setIsPasting(false)} />
      ) : (
        <form className="label-form" onSubmit={onSubmit}>
          <input
            className="input"
            data-testid="label-input"
            aria-label="New label"
            dir="auto"
            placeholder="Add a label…"
            value={draft}
            onChange={(event) => {
              setDraft(event.target.value);
              setRejected(null);
            }}
          />
          <button type="submit" className="button" aria-label="Add label" disabled={draft.trim() === ''}>
            Add
          </button>
        </form>
      )}
      {rejected && (
        <p className="field-note field-note--warning" role="alert">
          {rejected}
        </p>
      )}

      <ul className="label-list" data-testid="label-list" aria-label="Labels">
        {labels.map((label) => (
          <LabelRow
            key={label.id}
            label={label}
            count={counts[label.id] ?? 0}
            isSelected={label.id === selectedLabelId}
            isTruncated={truncated.has(label.id)}
          />
        ))}
      </ul>
      {labels.length === 0 && (
        <p className="field-note">
          No labels yet. Add the things you expect in your images, or paste a list.
        </p>
      )}
      {labels.length > 0 && (
        <p className="field-note">Click a label to rank the images by it; double-click to edit.</p>
      )}
      {truncated.size > 0 && (
        <p className="field-note field-note--warning">
          Labels marked “cut” made a prompt longer than the model reads; the end of it was ignored.
        </p>
      )}
      {embeddingError && (
        <p className="field-note field-note--error" role="alert">
          The labels could not be embedded: {embeddingError}
        </p>
      )}
    </section>
  );
}
