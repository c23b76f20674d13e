/**
 * Live text search: the query is embedded by the text tower a moment after typing stops (image embeddings are
 * already there, so ranking needs nothing else); when requests overlap only the newest result is kept. The query
 * is embedded as typed, without the label templates: a search is usually a phrase ("dog on a beach"), not a
 * class name.
 */
import { describeError } from '../core/errors';
import { bridgeConfig, getEngine } from './workerClient';
import { useLensStore } from './store';

let debounceTimer: ReturnType<typeof setTimeout> | null = null;
let latestRequest = 0;

async function embedQueryNow(query: string): Promise<void> {
  const requestNumber = ++latestRequest;
  const store = useLensStore.getState();
  if (store.modelStatus !== 'ready' || query.trim() === '') return;
  store.startQueryEmbedding();
  try {
    const result = await getEngine().call('embedLabels', { labels: [query.trim()], templates: ['{}'] });
    if (requestNumber !== latestRequest) return;
    useLensStore.getState().setQueryEmbedding({ query, vector: result.embeddings.slice(0, result.dim) });
  } catch (error) {
    if (requestNumber === latestRequest) useLensStore.getState().setSearchError(describeError(error));
  }
}

/** Sets the search text and embeds it after a short quiet time (an empty query ends the search at once). */
export function searchImages(query: string): void {
  useLensStore.getState().setSearchQuery(query);
  if (debounceTimer !== null) clearTimeout(debounceTimer);
  debounceTimer = null;
  if (query.trim() === '') {
    latestRequest += 1;
    return;
  }
  debounceTimer = setTimeout(() => {
    debounceTimer = null;
    void embedQueryNow(query);
  }, bridgeConfig.labelDebounceMs);
}

/** Embeds the current query again (after the model changed, its old embedding belongs to another space). */
export function refreshSearch(): void {
  const { searchQuery, setQueryEmbedding } = useLensStore.getState();
  setQueryEmbedding(null);
  if (searchQuery.trim() !== '') void embedQueryNow(searchQuery);
}

/** Forgets module state between tests. */
export function resetSearchPipeline(): void {
  if (debounceTimer !== null) clearTimeout(debounceTimer);
  debounceTimer = null;
  latestRequest += 1;
}
