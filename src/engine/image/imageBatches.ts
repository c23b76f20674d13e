/**
 * The loop behind `embedImages`: decode and preprocess each file, run a few images per inference, report every
 * image as soon as it is done. A failing image is reported and skipped; `isStopped` is checked between images.
 * With a cache, an image whose bytes were embedded before by the same model is reported from the cache without
 * being decoded, and every new embedding is written to it.
 *
 * Preparing an image (hash, decode, pixels, thumbnail, preprocess) runs ahead of the tower: while a batch is in
 * the tower, the next batch's images are prepared one after another, so the browser's decoder (on threads of its
 * own) and the hashing overlap the model. At most one batch is prepared ahead, which bounds memory however many
 * files are given; events still come in the order of the files.
 */
import type { DecodedImage, DecodeOptions } from './decode';
import { fileSha256, imageCacheKey, type CachedImage, type EmbeddingCache } from '../storage/embeddingCache';
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
  decode(file: Blob, name: string, thumbnailSize: number, options?: DecodeOptions): Promise<DecodedImage>;
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
  /** What the page is told about the picture; its pixels are dropped once preprocessed (memory). */
  decoded: Omit<DecodedImage, 'pixels'>;
  pixels: Float32Array;
  /** Hash + decode + preprocess time of this image alone. */
  ms: number;
  /** sha256 of the file, for the cache; null without a cache. */
  contentSha: string | null;
}

/** What preparing one file gave: pixels for the tower, a cached embedding, or the reason it failed. */
type Preparation =
  | { kind: 'prepared'; item: PreparedImage }
  | { kind: 'cached'; imageId: string; cached: CachedImage; ms: number }
  | { kind: 'failed'; imageId: string; error: unknown }
  | { kind: 'stopped' };

type ImageFile = EmbedImagesParams['images'][number];

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
  const ahead = new PreparationQueue(params, context, batchSize);
  while (!ahead.done() && !context.isStopped()) {
    const prepared: PreparedImage[] = [];
    while (prepared.length < batchSize && !ahead.done() && !context.isStopped()) {
      const preparation = await ahead.next();
      if (preparation.kind === 'stopped') break;
      if (preparation.kind === 'failed') fail(preparation.imageId, preparation.error);
      else if (preparation.kind === 'cached') {
        result.embedded++;
        result.fromCache++;
        const { imageId, cached, ms } = preparation;
        sink.image({ imageId, ...cached, ms, fromCache: true });
      } else prepared.push(preparation.item);
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

/**
 * The files' preparations, started in order one after another and kept at most `lookahead` ahead of what has been
 * taken. A preparation never rejects (a failure is a 'failed' result), so nothing is left unhandled when the
 * loop stops early; one that starts after a stop resolves to 'stopped' without reading its file.
 */
class PreparationQueue {
  private readonly started: Promise<Preparation>[] = [];
  private nextIndex = 0;
  private taken = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly params: EmbedImagesParams,
    private readonly context: ImageBatchContext,
    private readonly lookahead: number,
  ) {
    this.fill();
  }

  done(): boolean {
    return this.taken >= this.params.images.length;
  }

  /** The next file's preparation; the one after it starts as soon as the queue has room. */
  async next(): Promise<Preparation> {
    const preparation = this.started.shift()!;
    this.taken++;
    this.fill();
    return preparation;
  }

  private fill(): void {
    while (this.nextIndex < this.params.images.length && this.started.length < this.lookahead) {
      const image = this.params.images[this.nextIndex++]!;
      const preparation = this.tail.then(() =>
        this.context.isStopped()
          ? ({ kind: 'stopped' } as const)
          : prepareImage(image, this.params.thumbnailSize, this.context),
      );
      this.tail = preparation;
      this.started.push(preparation);
    }
  }
}

/** Hash, cache lookup, decode and preprocess of one file. */
async function prepareImage(
  image: ImageFile,
  thumbnailSize: number,
  context: ImageBatchContext,
): Promise<Preparation> {
  const prepStarted = context.now();
  try {
    const contentSha = context.cache ? await contentHash(image.file) : null;
    const cached =
      contentSha !== null
        ? await context.cache!.store.get(imageCacheKey(context.cache!.modelKey(), contentSha))
        : null;
    if (cached) return { kind: 'cached', imageId: image.imageId, cached, ms: context.now() - prepStarted };
    const decoded = await context.decode(image.file, image.name, thumbnailSize, {
      reducingFactors: context.embedder.reducingFactors,
    });
    const pixels = context.embedder.preprocess(decoded.pixels);
    const { width, height, thumbnail } = decoded;
    return {
      kind: 'prepared',
      item: {
        imageId: image.imageId,
        decoded: { width, height, thumbnail },
        pixels,
        ms: context.now() - prepStarted,
        contentSha,
      },
    };
  } catch (error) {
    return { kind: 'failed', imageId: image.imageId, error };
  }
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
