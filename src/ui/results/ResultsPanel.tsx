import { useLensStore } from '../../state/store';
import { DuplicatesPanel } from './DuplicatesPanel';
import { EmptyState } from '../shell/EmptyState';
import { ModelLoadProgress } from '../models/ModelLoadProgress';
import { ResultsGrid } from './ResultsGrid';
import { ResultsToolbar } from './ResultsToolbar';
import { RunProgress } from './RunProgress';
import { SearchBar } from './SearchBar';
import { VocabularyNote } from '../labels/VocabularyNote';

/**
 * While new labels are embedded the cards still hold the scores of the previous labels: they are greyed and say
 * so, never shown as if they were the new ones.
 */
function StaleNote() {
  return (
    <p className="stale-note" role="status" data-testid="stale-results">
      These scores are for the previous labels. The new labels are being embedded; the cards update when they
      are ready.
    </p>
  );
}

export function ResultsPanel() {
  const hasImages = useLensStore((state) => state.imageIds.length > 0);
  const isStale = useLensStore(
    (state) => state.labelEmbeddingStatus === 'embedding' && state.labelEmbeddings !== null,
  );
  return (
    <main
      className="results"
      id="results"
      tabIndex={-1}
      aria-label="Results"
      data-stale={hasImages && isStale ? 'true' : undefined}
      aria-busy={hasImages && isStale ? true : undefined}
    >
      <ModelLoadProgress />
      <RunProgress />
      {hasImages ? (
        <>
          <VocabularyNote />
          <SearchBar />
          <ResultsToolbar />
          {isStale && <StaleNote />}
          <DuplicatesPanel />
          <ResultsGrid />
        </>
      ) : (
        <EmptyState />
      )}
    </main>
  );
}
