/**
 * Sends queued images to the worker a few at a time and streams the results into the store. One request is in
 * flight at a time; files added meanwhile join the queue and the open run. The queue is the store's: images whose
 * status is 'queued', in the grid's order; this module keeps only what the store cannot hold (the File objects).
 */
import { CancelledError, describeError } from '../core/errors';
import type { ImageEmbeddedEvent, ImageFailedEvent } from '../core/protocol';
import { bridgeConfig, getEngine } from './workerClient';
import { createBatcher } from './frameBatcher';
import { fileKeyOf, isImageFile, plural } from './imageFiles';
import { CANCELLED_MESSAGE, type ImageResult, type NewImage, type SkippedFile } from './imagesSlice';
import { useLensStore } from './store';

/** Side of the square thumbnail the worker draws (≈ a 160 px card on a 2× screen). */
export const THUMBNAIL_SIZE = 320;
/** Small requests keep 'embedding' accurate and let cancel and newly added files take effect quickly. */
export const IMAGES_PER_REQUEST = 8;
export { CANCELLED_MESSAGE } from './imagesSlice';

export interface AddFilesSummary {
  added: number;
  duplicates: number;
  notImages: number;
  /** Names of the files that are not images, so the notice can say which ones. */
  notImageNames: string[];
}

/** Files stay here (not in the store) so images can be embedded again after a backend change. */
const filesById = new Map<string, File>();
const idsByFileKey = new Map<string, string>();
let active: { ids: string[]; cancel: () => void; settled: Promise<void> } | null = null;
/** What happens to the unfinished images of the request in flight once it settles. */
let stopMode: 'none' | 'cancel' | 'interrupt' = 'none';
let imageCounter = 0;
/** Bumped by resetImagePipeline so a request from before a reset cannot touch the new state. */
let generation = 0;

const results = createBatcher<ImageResult>(
  (items) => useLensStore.getState().applyImageResults(items, bridgeConfig.now()),
  () => bridgeConfig.schedule,
);

function onEmbedded(event: ImageEmbeddedEvent): void {
  const file = filesById.get(event.imageId);
  const thumbnail = event.thumbnail ?? file ?? null;
  results.push({
    kind: 'embedded',
    imageId: event.imageId,
    embedding: event.embedding,
    width: event.width,
    height: event.height,
    thumbnailUrl: thumbnail && filesById.has(event.imageId) ? URL.createObjectURL(thumbnail) : null,
    ms: event.ms,
    fromCache: event.fromCache === true,
  });
}

function onFailed(event: ImageFailedEvent): void {
  results.push({ kind: 'failed', imageId: event.imageId, message: event.message });
}

/** The images waiting to be embedded, in the grid's order (the store's statuses are the queue). */
function queuedIds(): string[] {
  const { imageIds, images } = useLensStore.getState();
  return imageIds.filter((id) => images[id]?.status === 'queued' && filesById.has(id));
}

/** Starts the next request if the model is ready and nothing is in flight; closes the run when all is done. */
export function pumpImages(): void {
  const store = useLensStore.getState();
  if (active || store.modelStatus !== 'ready') return;
  const queued = queuedIds();
  const ids = queued.slice(0, IMAGES_PER_REQUEST);
  if (ids.length === 0) {
    if (store.run.isRunning) store.finishRun(false);
    return;
  }
  if (!store.run.isRunning) store.addToRun(queued.length, bridgeConfig.now());
  store.markImagesEmbedding(ids);
  const requestGeneration = generation;
  const request = getEngine().start(
    'embedImages',
    {
      images: ids.map((id) => ({
        imageId: id,
        file: filesById.get(id)!,
        name: store.images[id]?.name ?? id,
      })),
      thumbnailSize: THUMBNAIL_SIZE,
    },
    (event) => (event.type === 'imageEmbedded' ? onEmbedded(event) : onFailed(event)),
  );
  const settled = request.done
    .then(
      (result) => (result.cancelled ? CANCELLED_MESSAGE : 'The worker returned no result for this image.'),
      (error: unknown) => (error instanceof CancelledError ? CANCELLED_MESSAGE : describeError(error)),
    )
    .then((leftoverMessage) => {
      if (requestGeneration === generation) settleRequest(ids, leftoverMessage);
    });
  active = { ids, cancel: request.cancel, settled };
}

function settleRequest(ids: readonly string[], leftoverMessage: string): void {
  results.flush();
  active = null;
  const mode = stopMode;
  stopMode = 'none';
  const { images, failImages, requeueImages } = useLensStore.getState();
  const leftovers = ids.filter((id) => images[id]?.status === 'embedding');
  if (mode === 'interrupt') {
    // Interrupted for a model change: the images are queued again (ahead of later ones, in the grid's order).
    requeueImages(leftovers);
    return;
  }
  if (leftovers.length > 0) failImages(leftovers, leftoverMessage);
  if (mode === 'cancel') finishCancel();
  else pumpImages();
}

function finishCancel(): void {
  useLensStore.getState().finishRun(true);
}

/** Stops the run: the request in flight is cancelled and every image still waiting is marked as cancelled. */
export function cancelImages(): void {
  const waiting = queuedIds();
  if (waiting.length > 0) useLensStore.getState().failImages(waiting, CANCELLED_MESSAGE);
  if (active) {
    stopMode = 'cancel';
    active.cancel();
  } else if (useLensStore.getState().run.isRunning) {
    finishCancel();
  }
}

/**
 * Queues the image files among `files` (others are counted and skipped) and starts embedding when the model is
 * ready. A file seen before is skipped unless its earlier attempt failed or was cancelled.
 */
export function addImageFiles(files: Iterable<File>): AddFilesSummary {
  const summary: AddFilesSummary = { added: 0, duplicates: 0, notImages: 0, notImageNames: [] };
  const { images } = useLensStore.getState();
  const newImages: NewImage[] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    if (!isImageFile(file)) {
      summary.notImages += 1;
      summary.notImageNames.push(file.name);
      skipped.push({
        name: file.name,
        reason: `Not an image: ${file.type ? `it says it is ${file.type}` : 'its name says it is a document'}.`,
      });
      continue;
    }
    const fileKey = fileKeyOf(file);
    const knownId = idsByFileKey.get(fileKey);
    if (knownId && images[knownId]?.status !== 'failed') {
      summary.duplicates += 1;
      continue;
    }
    imageCounter += 1;
    const id = knownId ?? `image-${imageCounter}`;
    idsByFileKey.set(fileKey, id);
    filesById.set(id, file);
    newImages.push({ id, name: file.name, size: file.size, fileKey });
    summary.added += 1;
  }
  if (newImages.length > 0) {
    const store = useLensStore.getState();
    store.queueImages(newImages);
    if (store.run.isRunning) store.addToRun(newImages.length, bridgeConfig.now());
    pumpImages();
  }
  useLensStore.getState().recordSkippedFiles(skipped);
  reportSkipped(summary);
  return summary;
}

/** 'a.txt', 'a.txt, b.pdf', … 'a.txt, b.pdf, c.doc and 4 more': enough to find them, never a wall of names. */
function someNames(names: readonly string[], shown = 3): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

function reportSkipped({ duplicates, notImages, notImageNames }: AddFilesSummary): void {
  const { pushNotice } = useLensStore.getState();
  if (notImages > 0) {
    pushNotice(
      notImages === 1
        ? `Skipped ${notImageNames[0]}: it is not an image.`
        : `Skipped ${notImages} files that are not images: ${someNames(notImageNames)}.`,
    );
  }
  if (duplicates > 0)
    pushNotice(`${plural(duplicates, 'image')} ${duplicates === 1 ? 'was' : 'were'} already added.`);
}

/**
 * Stops the request in flight before the model is reloaded; its unfinished images return to the queue, to be
 * embedded by the new model (pumpImages waits for the model to be ready).
 */
export async function interruptImages(): Promise<void> {
  if (!active) return;
  stopMode = 'interrupt';
  active.cancel();
  await active.settled;
}

/** Embeds every image again (after the model or backend changed); the old results show until replaced. */
export function requeueAllImages(): void {
  const store = useLensStore.getState();
  const ids = store.imageIds.filter((id) => filesById.has(id) && store.images[id]?.status !== 'queued');
  if (ids.length === 0) return;
  store.requeueImages(ids);
  if (store.run.isRunning) store.addToRun(ids.length, bridgeConfig.now());
  pumpImages();
}

export function removeImageFile(id: string): void {
  const entry = useLensStore.getState().images[id];
  if (entry) idsByFileKey.delete(entry.fileKey);
  filesById.delete(id);
  useLensStore.getState().removeImage(id);
}

/** The file an image was added from, while the page still holds it (for Sort into folders). */
export function imageFileOf(id: string): File | undefined {
  return filesById.get(id);
}

/** Cancels any run and forgets every image. */
export function clearImageFiles(): void {
  active?.cancel();
  filesById.clear();
  idsByFileKey.clear();
  useLensStore.getState().clearImages();
}

/** Forgets module state between tests. */
export function resetImagePipeline(): void {
  results.flush();
  filesById.clear();
  idsByFileKey.clear();
  active = null;
  stopMode = 'none';
  imageCounter = 0;
  generation += 1;
}
