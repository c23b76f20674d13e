import type { StateCreator } from 'zustand';
import type { LensState } from './store';

export type ImageStatus = 'queued' | 'embedding' | 'done' | 'failed';

export interface ImageEntry {
  id: string;
  name: string;
  /** Bytes. */
  size: number;
  /** name + size + lastModified: the same file dropped twice is recognised. */
  fileKey: string;
  status: ImageStatus;
  /** Object URL of the worker's thumbnail (or of the file itself); revoked when the entry goes or it is replaced. */
  thumbnailUrl: string | null;
  /** L2-normalised image embedding. */
  embedding: Float32Array | null;
  width: number | null;
  height: number | null;
  error: string | null;
  /** Decode + preprocess + inference time for this image. */
  ms: number | null;
  /** The result came from the embedding cache (an image seen before, e.g. in a tab closed mid-batch). */
  fromCache: boolean;
}

export type NewImage = Pick<ImageEntry, 'id' | 'name' | 'size' | 'fileKey'>;

/** What the worker reported for one image, as the bridge hands it over in a batch. */
export type ImageResult =
  | {
      kind: 'embedded';
      imageId: string;
      embedding: Float32Array;
      width: number;
      height: number;
      thumbnailUrl: string | null;
      ms: number;
      fromCache: boolean;
    }
  | { kind: 'failed'; imageId: string; message: string };

/** Progress of the current (or last) batch of images sent to the worker. */
export interface RunStats {
  isRunning: boolean;
  /** Images in this run, including ones added while it was going. */
  total: number;
  embedded: number;
  failed: number;
  startedAt: number | null;
  imagesPerSecond: number;
  /** Sum of the per-image times the worker reported (for the mean ms per image). */
  workerMs: number;
  wasCancelled: boolean;
}

/** The message of an image whose run was cancelled before it was embedded (not refused: added again, it is). */
export const CANCELLED_MESSAGE = 'Cancelled before it was embedded.';

/** A file that was not taken at all (it says it is a document), kept so the refused list stays after the notice. */
export interface SkippedFile {
  name: string;
  reason: string;
}

export interface ImagesSlice {
  imageIds: string[];
  images: Record<string, ImageEntry>;
  run: RunStats;
  skippedFiles: SkippedFile[];

  recordSkippedFiles(files: readonly SkippedFile[]): void;

  queueImages(images: readonly NewImage[]): void;
  /** Marks images for embedding again (e.g. after a backend change); their old results stay until replaced. */
  requeueImages(ids: readonly string[]): void;
  markImagesEmbedding(ids: readonly string[]): void;
  /** Applies a batch of worker results in one store update (the bridge batches them per animation frame). */
  applyImageResults(results: readonly ImageResult[], now: number): void;
  /** Marks images as failed with the same message, e.g. when a run is cancelled before they were embedded. */
  failImages(ids: readonly string[], message: string): void;
  removeImage(id: string): void;
  clearImages(): void;
  /** Opens a run, or grows the open one by `count` images. */
  addToRun(count: number, now: number): void;
  finishRun(wasCancelled: boolean): void;
}

export const emptyRun: RunStats = {
  isRunning: false,
  total: 0,
  embedded: 0,
  failed: 0,
  startedAt: null,
  imagesPerSecond: 0,
  workerMs: 0,
  wasCancelled: false,
};

function revoke(url: string | null): void {
  if (url) URL.revokeObjectURL(url);
}

function withStatus(
  images: Record<string, ImageEntry>,
  ids: readonly string[],
  change: Partial<ImageEntry>,
): Record<string, ImageEntry> {
  const next = { ...images };
  for (const id of ids) {
    const entry = next[id];
    if (entry) next[id] = { ...entry, ...change };
  }
  return next;
}

export const createImagesSlice: StateCreator<LensState, [], [], ImagesSlice> = (set) => ({
  imageIds: [],
  images: {},
  run: emptyRun,
  skippedFiles: [],

  recordSkippedFiles: (files) =>
    set((state) => (files.length > 0 ? { skippedFiles: [...state.skippedFiles, ...files] } : state)),

  queueImages: (newImages) =>
    set((state) => {
      const images = { ...state.images };
      const imageIds = [...state.imageIds];
      for (const image of newImages) {
        const previous = images[image.id];
        if (previous) revoke(previous.thumbnailUrl);
        else imageIds.push(image.id);
        images[image.id] = {
          ...image,
          status: 'queued',
          thumbnailUrl: null,
          embedding: null,
          width: null,
          height: null,
          error: null,
          ms: null,
          fromCache: false,
        };
      }
      return { images, imageIds };
    }),
  requeueImages: (ids) =>
    set((state) => ({ images: withStatus(state.images, ids, { status: 'queued', error: null }) })),
  markImagesEmbedding: (ids) =>
    set((state) => ({ images: withStatus(state.images, ids, { status: 'embedding' }) })),
  applyImageResults: (results, now) =>
    set((state) => {
      const images = { ...state.images };
      let { embedded, failed, workerMs } = state.run;
      for (const result of results) {
        const entry = images[result.imageId];
        if (!entry) {
          // The image was removed while the worker was on it: nothing to show, so free the new thumbnail.
          if (result.kind === 'embedded') revoke(result.thumbnailUrl);
          continue;
        }
        if (result.kind === 'embedded') {
          if (result.thumbnailUrl && entry.thumbnailUrl !== result.thumbnailUrl) revoke(entry.thumbnailUrl);
          images[result.imageId] = {
            ...entry,
            status: 'done',
            embedding: result.embedding,
            width: result.width,
            height: result.height,
            thumbnailUrl: result.thumbnailUrl ?? entry.thumbnailUrl,
            ms: result.ms,
            fromCache: result.fromCache,
            error: null,
          };
          embedded += 1;
          workerMs += result.ms;
        } else {
          images[result.imageId] = { ...entry, status: 'failed', error: result.message };
          failed += 1;
        }
      }
      const seconds = state.run.startedAt === null ? 0 : (now - state.run.startedAt) / 1000;
      const imagesPerSecond = seconds > 0 ? (embedded + failed) / seconds : 0;
      return { images, run: { ...state.run, embedded, failed, workerMs, imagesPerSecond } };
    }),
  failImages: (ids, message) =>
    set((state) => ({ images: withStatus(state.images, ids, { status: 'failed', error: message }) })),
  removeImage: (id) =>
    set((state) => {
      const entry = state.images[id];
      if (!entry) return {};
      revoke(entry.thumbnailUrl);
      const images = { ...state.images };
      delete images[id];
      return {
        images,
        imageIds: state.imageIds.filter((imageId) => imageId !== id),
        // Ranking by an image that is gone would rank by nothing.
        similarToImageId: state.similarToImageId === id ? null : state.similarToImageId,
        lightboxImageId: state.lightboxImageId === id ? null : state.lightboxImageId,
      };
    }),
  clearImages: () =>
    set((state) => {
      for (const entry of Object.values(state.images)) revoke(entry.thumbnailUrl);
      return {
        images: {},
        imageIds: [],
        run: emptyRun,
        skippedFiles: [],
        similarToImageId: null,
        lightboxImageId: null,
      };
    }),
  addToRun: (count, now) =>
    set((state) =>
      state.run.isRunning
        ? { run: { ...state.run, total: state.run.total + count } }
        : { run: { ...emptyRun, isRunning: true, total: count, startedAt: now } },
    ),
  finishRun: (wasCancelled) => set((state) => ({ run: { ...state.run, isRunning: false, wasCancelled } })),
});
