import { setNearDuplicateThreshold } from '../../state/duplicatesPipeline';
import { clearImages } from '../../state/engineBridge';
import { plural } from '../../state/imageFiles';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../../state/searchSlice';
import { useLensStore } from '../../state/store';
import { ExportButtons } from './ExportButtons';
import { RefusedFiles } from '../images/RefusedFiles';
import { selectRefusedFiles } from '../../state/selectors';

/** What the grid is ranked by (click to clear), near-duplicates, export, and "Clear all". */
export function ResultsToolbar() {
  // Files that gave no image are counted apart (RefusedFiles), never as images.
  const refusedCards = useLensStore(
    (state) => selectRefusedFiles(state).filter((file) => file.imageId).length,
  );
  const count = useLensStore((state) => state.imageIds.length) - refusedCards;
  const selectedLabel = useLensStore(
    (state) => state.labels.find((label) => label.id === state.selectedLabelId) ?? null,
  );
  const similarTo = useLensStore((state) =>
    state.similarToImageId ? (state.images[state.similarToImageId] ?? null) : null,
  );
  const isSearching = useLensStore((state) => state.searchQuery.trim() !== '');
  const toggleSelectedLabel = useLensStore((state) => state.toggleSelectedLabel);
  const toggleSimilarTo = useLensStore((state) => state.toggleSimilarTo);
  const duplicatesOpen = useLensStore((state) => state.duplicateThreshold !== null);

  let order;
  if (similarTo) {
    order = (
      <button
        type="button"
        className="chip"
        aria-label={`Stop ranking by similarity to ${similarTo.name}`}
        onClick={() => toggleSimilarTo(null)}
      >
        Similar to <strong dir="auto">{similarTo.name}</strong> <span aria-hidden="true">×</span>
      </button>
    );
  } else if (isSearching) {
    order = <span className="toolbar__hint">Ranked by the search</span>;
  } else if (selectedLabel) {
    order = (
      <button
        type="button"
        className="chip"
        aria-label={`Stop ranking by ${selectedLabel.text}`}
        onClick={() => toggleSelectedLabel(selectedLabel.id)}
      >
        Ranked by <strong>{selectedLabel.text}</strong> <span aria-hidden="true">×</span>
      </button>
    );
  } else {
    order = <span className="toolbar__hint">In the order added · click a label to rank</span>;
  }

  return (
    <div className="toolbar">
      <h2 className="toolbar__title">{plural(count, 'image')}</h2>
      <RefusedFiles />
      {order}
      <span className="toolbar__spacer" />
      <button
        type="button"
        className="button button--quiet button--small"
        aria-pressed={duplicatesOpen}
        title="Groups of images that are nearly the same picture"
        onClick={() => setNearDuplicateThreshold(duplicatesOpen ? null : DEFAULT_DUPLICATE_THRESHOLD)}
      >
        Near-duplicates
      </button>
      <ExportButtons />
      <button
        type="button"
        className="button button--quiet button--small"
        aria-label="Clear all images"
        onClick={clearImages}
      >
        Clear all
      </button>
    </div>
  );
}
