/**
 * The near-duplicate finder: every pair of embedded images is compared in the worker (n² dot products, seconds for
 * thousands of images, so never on the page's thread). Moving the slider asks again after a short quiet time; when
 * answers overlap only the newest is kept.
 */
import { describeError } from '../core/errors';
import { useLensStore } from './store';
import { getEngine } from './workerClient';

/** Quiet time after the last slider move (or new image) before the worker is asked. */
const QUIET_MS = 120;

let timer: ReturnType<typeof setTimeout> | null = null;
let latestRequest = 0;

/** Opens the finder at `threshold` (or moves it there); null closes it. */
export function setNearDuplicateThreshold(threshold: number | null): void {
  useLensStore.getState().setDuplicateThreshold(threshold);
  if (threshold === null) {
    latestRequest += 1;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    return;
  }
  refreshNearDuplicates();
}

/** Compares the images again (after images were added or embedded) while the finder is open. */
export function refreshNearDuplicates(): void {
  const { duplicateThreshold, duplicateGroups, setDuplicateGroups } = useLensStore.getState();
  if (duplicateThreshold === null) return;
  setDuplicateGroups(duplicateGroups, true);
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    void findNow();
  }, QUIET_MS);
}

async function findNow(): Promise<void> {
  const requestNumber = ++latestRequest;
  const { duplicateThreshold: threshold, imageIds, images } = useLensStore.getState();
  if (threshold === null) return;
  const embedded = imageIds.filter((id) => images[id]?.embedding);
  const dim = embedded.length > 0 ? images[embedded[0]!]!.embedding!.length : 0;
  const embeddings = new Float32Array(embedded.length * dim);
  embedded.forEach((id, row) => embeddings.set(images[id]!.embedding!, row * dim));
  try {
    const { groups } = await getEngine().call('nearDuplicates', {
      embeddings,
      dim,
      imageIds: embedded,
      threshold,
    });
    if (requestNumber === latestRequest) useLensStore.getState().setDuplicateGroups(groups, false);
  } catch (error) {
    if (requestNumber !== latestRequest) return;
    const store = useLensStore.getState();
    store.setDuplicateGroups(store.duplicateGroups, false);
    store.pushNotice(`Near-duplicates could not be found: ${describeError(error)}`, 'error');
  }
}

/** Forgets a pending request (tests, "Forget everything"). */
export function resetDuplicatesPipeline(): void {
  latestRequest += 1;
  if (timer !== null) clearTimeout(timer);
  timer = null;
}
