/**
 * Keeps the label embeddings in step with the labels and templates: edits are debounced, and when requests
 * overlap only the newest result is kept.
 */
import { describeError } from '../core/errors';
import { normalizeTemplates } from '../core/templates';
import type { CancellableRequest, EmbedLabelsResult } from '../core/protocol';
import { bridgeConfig, getEngine } from './workerClient';
import { promptSpeedKey } from './labelsSlice';
import { useLensStore } from './store';

let debounceTimer: ReturnType<typeof setTimeout> | null = null;
/** Incremented per request; a result whose number is no longer the latest is dropped. */
let latestRequest = 0;
/** The request in flight, so Cancel can stop it in the worker. */
let running: CancellableRequest<EmbedLabelsResult> | null = null;

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
  const templates = store.templates;
  store.startLabelEmbedding();
  running?.cancel();
  const request = getEngine().start(
    'embedLabels',

    { labels: labels.map((label) => label.text), templates: normalizeTemplates(templates) },
    ({ done, total }) => {
      if (requestNumber === latestRequest)
        useLensStore.getState().setLabelEmbeddingProgress(done, total, bridgeConfig.now());
    },
  );
  running = request;
  try {
    const result = await request.done;
    if (result.textProbeCosine != null) useLensStore.getState().setTextProbeCosine(result.textProbeCosine);
    recordPromptSpeed(result);
    if (requestNumber !== latestRequest) return;
    useLensStore.getState().setLabelEmbeddings({
      labelIds: labels.map((label) => label.id),
      labelTexts: labels.map((label) => label.text),
      templates,
      embeddings: result.embeddings,
      dim: result.dim,
      truncated: result.truncated,
      ms: result.ms,
      fromCache: result.fromCache ?? 0,
    });
  } catch (error) {
    // A cancelled request was answered by cancelLabelEmbedding already.
    const isCancelled = error instanceof Error && error.name === 'CancelledError';
    if (requestNumber === latestRequest && !isCancelled)
      useLensStore.getState().setLabelEmbeddingError(describeError(error));
  } finally {
    if (running === request) running = null;
  }
}

/** Keeps the measured text-tower time per prompt (only a run of more than one batch measures anything). */
function recordPromptSpeed(result: EmbedLabelsResult): void {
  const key = promptSpeedKey(useLensStore.getState());
  if (!key || !result.promptsRun || !result.towerMs) return;
  useLensStore.getState().setPromptSpeed({ modelKey: key, msPerPrompt: result.towerMs / result.promptsRun });
}

/**
 * Stops embedding the labels: the worker stops after the batch in flight (what it computed stays in its memory, so
 * the same labels later resume) and the store goes back to the labels its embeddings belong to.
 */
export function cancelLabelEmbedding(): void {
  cancelScheduledLabelEmbedding();
  latestRequest += 1;
  running?.cancel();
  running = null;
  useLensStore.getState().cancelLabelEmbedding();
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
  running = null;
}
