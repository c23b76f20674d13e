/**
 * The image-embedding cache as the page sees it (results of images seen before, kept on this device): what it
 * holds, and emptying it with the notice that says so.
 */
import { describeError } from '../core/errors';
import type { EmbeddingCacheInfo } from '../core/protocol';
import { useLensStore } from './store';
import { getEngine } from './workerClient';

/** What the cache holds, or null when the worker cannot say (the line is then left out). */
export async function readEmbeddingCacheInfo(): Promise<EmbeddingCacheInfo | null> {
  try {
    return await getEngine().call('embeddingCacheInfo', {});
  } catch {
    return null;
  }
}

/** Empties the cache for every model and says how many images it forgot (or why it could not). */
export async function clearEmbeddingCache(): Promise<void> {
  const { pushNotice } = useLensStore.getState();
  try {
    const { removed } = await getEngine().call('clearEmbeddingCache', {});
    pushNotice(`Forgot the cached results of ${removed} images.`);
  } catch (error) {
    pushNotice(`The cache could not be cleared: ${describeError(error)}`, 'error');
  }
}
