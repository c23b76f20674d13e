import { useLensStore } from '../state/store';
import { EmptyState } from './EmptyState';
import { ModelLoadProgress } from './ModelLoadProgress';
import { ResultsGrid } from './ResultsGrid';
import { ResultsToolbar } from './ResultsToolbar';
import { RunProgress } from './RunProgress';

export function ResultsPanel() {
  const hasImages = useLensStore((state) => state.imageIds.length > 0);
  return (
    <main className="results" aria-label="Results">
      <ModelLoadProgress />
      <RunProgress />
      {hasImages ? (
        <>
          <ResultsToolbar />
          <ResultsGrid />
        </>
      ) : (
        <EmptyState />
      )}
    </main>
  );
}
