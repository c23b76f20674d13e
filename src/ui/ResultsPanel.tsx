import { useLensStore } from '../state/store';
import { DuplicatesPanel } from './DuplicatesPanel';
import { EmptyState } from './EmptyState';
import { ModelLoadProgress } from './ModelLoadProgress';
import { ResultsGrid } from './ResultsGrid';
import { ResultsToolbar } from './ResultsToolbar';
import { RunProgress } from './RunProgress';
import { SearchBar } from './SearchBar';
import { VocabularyNote } from './VocabularyNote';

export function ResultsPanel() {
  const hasImages = useLensStore((state) => state.imageIds.length > 0);
  return (
    <main className="results" id="results" tabIndex={-1} aria-label="Results">
      <ModelLoadProgress />
      <RunProgress />
      {hasImages ? (
        <>
          <VocabularyNote />
          <SearchBar />
          <ResultsToolbar />
          <DuplicatesPanel />
          <ResultsGrid />
        </>
      ) : (
        <EmptyState />
      )}
    </main>
  );
}
