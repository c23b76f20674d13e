import { useState } from 'react';
import { selectTruncatedLabelIds } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { AddLabelForm } from './AddLabelForm';
import { LabelEmbeddingProgress } from './LabelEmbeddingProgress';
import { LabelList } from './LabelList';
import { LabelTools } from './LabelTools';
import { ModeControls } from '../results/ModeControls';
import { PasteLabels } from './PasteLabels';

/** The labels the images are classified into: add with Enter, edit in place, paste a list. */
export function LabelEditor() {
  const labels = useLensStore((state) => state.labels);
  const embeddingStatus = useLensStore((state) => state.labelEmbeddingStatus);
  const embeddingError = useLensStore((state) => state.labelEmbeddingError);
  const hasTruncated = useLensStore((state) => selectTruncatedLabelIds(state).size > 0);
  const [isPasting, setIsPasting] = useState(false);

  return (
    <section className="panel" aria-labelledby="labels-heading">
      <div className="panel__head">
        <h2 id="labels-heading" className="panel__title">
          Labels
        </h2>
        <span className="panel__meta" aria-live="polite">
          {embeddingStatus === 'embedding' ? 'Embedding…' : labels.length.toLocaleString('en-US')}
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
      {isPasting ? <PasteLabels onClose={() => setIsPasting(false)} /> : <AddLabelForm />}
      <LabelEmbeddingProgress />

      <LabelList labels={labels} />
      {labels.length === 0 && (
        <p className="field-note">
          No labels yet. Add the things you expect in your images, or paste a list.
        </p>
      )}
      {labels.length > 0 && (
        <p className="field-note">Click a label to rank the images by it; double-click to edit.</p>
      )}
      {hasTruncated && (
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
