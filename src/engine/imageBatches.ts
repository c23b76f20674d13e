/**
 * The loop behind `embedImages`: decode and preprocess each file, run a few images per inference, report every
 * image as soon as it is done. A failing image is reported and skipped; `isStopped` is checked between images.
 */
import type { DecodedImage } from './decode';
import { describeError } from './errors';
import type { ImageEmbedder } from './imageEmbedder';
import type {
  EmbedImagesParams,
  EmbedImagesResult,
  ImageEmbeddedEvent,
  ImageFailedEvent,
} from '../worker/protocol';

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
}

interface PreparedImage {
  imageId: string;
  decoded: DecodedImage;
  pixels: Float32Array;
  /** Decode + preprocess time. */
  ms: number;
}

export async function embedImageFiles(
  params: EmbedImagesParams,
  sink: ImageSink,
  context: ImageBatchContext,
): Promise<EmbedImagesResult> {
  const started = context.now();
  const result: EmbedImagesResult = { embedded: 0, failed: 0, cancelled: false, ms: 0 };
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
        const decoded = await context.decode(image.file, image.name, params.thumbnailSize);
        const pixels = context.embedder.preprocess(decoded.pixels);
        prepared.push({ imageId: image.imageId, decoded, pixels, ms: context.now() - prepStarted });
      } catch (error) {
        fail(image.imageId, error);
      }
    }
    if (context.isStopped() || prepared.length === 0) continue;
    for (const { item, embedding, runMs } of await embedBatch(context, prepared, fail)) {
      result.embedded++;
      const { width, height, thumbnail } = item.decoded;
      sink.image({ imageId: item.imageId, embedding, width, height, thumbnail, ms: item.ms + runMs });
    }
  }
  result.cancelled = context.isStopped() && result.embedded + result.failed < params.images.length;
  result.ms = context.now() - started;
  return result;
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
