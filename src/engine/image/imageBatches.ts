/**
 * The loop behind `embedImages`: decode and preprocess each file, run a few images per inference, report every
 * image as soon as it is done. A failing image is reported and skipped; `isStopped` is checked between images.
 * With a cache, an image whose bytes were embedded before by the same model is reported from the cache without
 * being decoded, and every new embedding is written to it.
 */
import type { DecodedImage } from './decode';
import { fileSha256, imageCacheKey, type EmbeddingCache } from '../storage/embeddingCache';
import { describeError } from '../../core/errors';
import type { ImageEmbedder } from './imageEmbedder';
import type {
  EmbedImagesParams,
  EmbedImagesResult,
  ImageEmbeddedEvent,
  ImageFailedEvent,
} from '../../core/protocol';

/** Where embedImages reports each image (the worker handler adds the request id). */
export interface ImageSink {
  image(event: Omit<ImageEmbeddedEvent, 'type' | 'requestId'>): void;
  failed(event: Omit<ImageFailedEvent, 'type' | 'requestId'>): void;
}

export interface ImageBatchContext {
  embedder: ImageEmbedder;
  decode(file: Blob, name: string, thumbnailSize: number): Promise<DecodedImage>;
  batchSize: number;
  isStopped(): boolean;
  now(): number;
  /**
   * Embeddings kept across visits; `modelKey` names the weights (see imageCacheKey), read at each lookup and write:
   * a backend change in the middle of a batch (the GPU lost) changes the weights that embed the rest.
   */
  cache?: { store: EmbeddingCache; modelKey: () => string };
}

interface PreparedImage {
  imageId: string;
  decoded: DecodedImage;
  pixels: Float32Array;
  /** Decode + preprocess time. */
  ms: number;
  /** Where to cache the embedding, when there is a cache. */
  /** sha256 of the file, for the cache; null without a cache. */
  contentSha: string | null;
}

export async function embedImageFiles(
  params: EmbedImagesParams,
  sink: ImageSink,
  context: ImageBatchContext,
): Promise<EmbedImagesResult> {
  const started = context.now();
  const result: Required<EmbedImagesResult> = {
    embedded: 0,
    fromCache: 0,
    failed: 0,
    cancelled: false,
    ms: 0,
  };
  const fail = (imageId: string, error: unknown) => {
    result.failed++;
    sink.failed({ imageId, message: describeError(error) });
  };
  const batchSize = Math.max(1, Math.floor(context.batchSize));
  for (let start = 0; start < params.images.length && !context.isStopped(); start += batchSize) {
    const prepared: PreparedImage[] = [];
    for (const image of params.images.slice(start, start + batchSize)) {
      if (context.isStopped()) break;
      const prepStarted = context.now();
      try {
        const contentSha = context.cache ? await contentHash(image.file) : null;
        const cached =
          contentSha !== null
            ? await context.cache!.store.get(imageCacheKey(context.cache!.modelKey(), contentSha))
            : null;
        if (cached) {
          result.embedded++;
          result.fromCache++;
          sink.image({ imageId: image.imageId, ...cached, ms: context.now() - prepStarted, fromCache: true });
          continue;
        }
        const decoded = await context.decode(image.file, image.name, params.thumbnailSize);
        const pixels = context.embedder.preprocess(decoded.pixels);
        prepared.push({
          imageId: image.imageId,
          decoded,
          pixels,
          ms: context.now() - prepStarted,
          contentSha,
        });
      } catch (error) {
        fail(image.imageId, error);
      }
    }
    if (context.isStopped() || prepared.length === 0) continue;
    for (const { item, embedding, runMs } of await embedBatch(context, prepared, fail)) {
      result.embedded++;
      const { width, height, thumbnail } = item.decoded;
      // Written before the embedding's buffer is handed to the page (the sink may transfer it).
      if (item.contentSha !== null)
        void context.cache!.store.put(imageCacheKey(context.cache!.modelKey(), item.contentSha), {
          embedding: embedding.slice(),
          width,
          height,
          thumbnail,
        });
      sink.image({
        imageId: item.imageId,
        embedding,
        width,
        height,
        thumbnail,
        ms: item.ms + runMs,
        fromCache: false,
      });
    }
  }
  result.cancelled = context.isStopped() && result.embedded + result.failed < params.images.length;
  result.ms = context.now() - started;
  return result;
}

/** The sha256 of a file's bytes, or null when they cannot be read (decoding it will then say why). */
async function contentHash(file: Blob): Promise<string | null> {
  try {
    return await fileSha256(file);
  } catch {
    return null;
  }
}

/** Runs a batch; if the batch fails, each image is retried alone so one bad input cannot sink the others. */
async function embedBatch(
  context: ImageBatchContext,
  items: PreparedImage[],
  fail: (imageId: string, error: unknown) => void,
): Promise<{ item: PreparedImage; embedding: Float32Array; runMs: number }[]> {
  const started = context.now();
  try {
    const embeddings = await context.embedder.embedPreprocessed(items.map((item) => item.pixels));
    const runMs = (context.now() - started) / items.length;
    return items.map((item, i) => ({ item, embedding: embeddings[i]!, runMs }));
  } catch (error) {
    if (items.length === 1) {
      fail(items[0]!.imageId, error);
      return [];
    }
    const done = [];
    for (const item of items) done.push(...(await embedBatch(context, [item], fail)));
    return done;
  }
}
