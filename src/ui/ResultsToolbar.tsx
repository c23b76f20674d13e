import { clearImages } from '../state/engineBridge';
import { plural } from '../state/imageFiles';
import { useLensStore } from '../state/store';

/** Count, the label the grid is ranked by (click to clear), and "Clear all". */
export function ResultsToolbar() {
  const count = useLensStore((state) => state.imageIds.length);
  const selectedLabel = useLensStore(
    (state) => state.labels.find((label) => label.id === state.selectedLabelId) ?? null,
  );
  const toggleSelectedLabel = useLensStore((state) => state.toggleSelectedLabel);

  return (
    <div className="toolbar">
      <h2 className="toolbar__title">{plural(count, 'image')}</h2>
      {selectedLabel ? (
        <button
          type="button"
          className="chip"
          aria-label={`Stop ranking by ${selectedLabel.text}`}
          onClick={() => toggleSelectedLabel(selectedLabel.id)}
        >
          Ranked by <strong>{selectedLabel.text}</strong> <span aria-hidden="true">×</span>
        </button>
      ) : (
        <span className="toolbar__hint">In the order added · click a label to rank</span>
      )}
      <span className="toolbar__spacer" />
      <button
        type="button"
        className="button button--quiet button--small"
        aria-label="Remove all images"
        onClick={clearImages}
      >
        Clear all
      </button>
    </div>
  );
}
