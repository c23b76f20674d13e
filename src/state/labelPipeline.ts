/**
 * Keeps the label embeddings in step with the labels and templates: edits are debounced, and when requests
 * overlap only the newest result is kept.
 */
import { describeError } from '../core/errors';
import { normalizeTemplates } from '../core/templates';
import { bridgeConfig, getEngine } from './workerClient';
import { useLensStore } from './store';

let debounceTimer: ReturnType<typeof setTimeout> | null = null;
/** Incremented per request; a result whose number is no longer the latest is dropped. */
let latestRequest = 0;

/** Embeds the current labels now (no-op until a model is ready; loadModel calls it once one is). */
export async function embedLabelsNow(): Promise<void> {
  cancelScheduledLabelEmbedding();
  const requestNumber = ++latestRequest;
  const store = useLensStore.getState();
  if (store.modelStatus !== 'ready') return;
  const labels = store.labels;
  if (labels.length === 0) {
    store.setLabelEmbeddings(null);
    return;
  }
  store.startLabelEmbedding();
  try {
    const result = await getEngine().call('embedLabels', {
      labels: labels.map((label) => label.text),
      templates: normalizeTemplates(store.templates),
    });
    if (result.textProbeCosine != null) useLensStore.getState().setTextProbeCosine(result.textProbeCosine);
    if (requestNumber !== latestRequest) return;
    useLensStore.getState().setLabelEmbeddings({
      labelIds: labels.map((label) => label.id),
      labelTexts: labels.map((label) => label.text),
      embeddings: result.embeddings,
      dim: result.dim,
      truncated: result.truncated,
      ms: result.ms,
      fromCache: result.fromCache ?? 0,
    });
  } catch (error) {
    if (requestNumber === latestRequest) useLensStore.getState().setLabelEmbeddingError(describeError(error));
  }
}

/** Embeds the labels after a short quiet time, so typing or several quick edits cost one request. */
export function scheduleLabelEmbedding(): void {
  cancelScheduledLabelEmbedding();
  debounceTimer = setTimeout(() => {
    debounceTimer = null;
    void embedLabelsNow();
  }, bridgeConfig.labelDebounceMs);
}

export function cancelScheduledLabelEmbedding(): void {
  if (debounceTimer !== null) clearTimeout(debounceTimer);
  debounceTimer = null;
}

/** Forgets module state between tests. */
export function resetLabelPipeline(): void {
  cancelScheduledLabelEmbedding();
  latestRequest += 1;
}
