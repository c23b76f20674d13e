import { describe, expect, it } from 'vitest';
import type { DecodedImage, DecodeOptions } from './decode';
import { MemoryEmbeddingCache } from '../storage/embeddingCache';
import { ImageDecodeError } from '../../core/errors';
import { embedImageFiles, type ImageBatchContext } from './imageBatches';
import { ImageEmbedder } from './imageEmbedder';

const CONFIG = {
  size: 2,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  resizeMode: 'shortest',
  interpolation: 'bicubic',
} as const;

/** A decoder and tower that log what ran when; `bad` names fail to decode. */
function harness(options: { bad?: string[]; batchSize?: number; stopAfterTowerRuns?: number } = {}) {
  const log: string[] = [];
  let towerRuns = 0;
  const embedder = new ImageEmbedder(
    { ...CONFIG, mean: [...CONFIG.mean], std: [...CONFIG.std] },
    2,
    async (_, batch) => {
      log.push(`tower ${batch}`);
      towerRuns++;
      // The tower takes a while: the decoder may work meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push('tower done');
      return new Float32Array(batch * 2).fill(1);
    },
  );
  const decodeOptions: (DecodeOptions | undefined)[] = [];
  const context: ImageBatchContext = {
    embedder,
    decode: async (_file, name, _size, decodeOptionsGiven): Promise<DecodedImage> => {
      decodeOptions.push(decodeOptionsGiven);
      log.push(`decode ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.bad?.includes(name)) throw new ImageDecodeError(`${name} is damaged.`);
      return {
        pixels: { data: new Uint8Array(4 * 4 * 4).fill(200), width: 4, height: 4 },
        width: 4,
        height: 4,
        thumbnail: null,
      };
    },
    batchSize: options.batchSize ?? 2,
    isStopped: () => options.stopAfterTowerRuns !== undefined && towerRuns >= options.stopAfterTowerRuns,
    now: () => performance.now(),
  };
  const events: string[] = [];
  const sink = {
    image: ({ imageId, fromCache }: { imageId: string; fromCache?: boolean }) =>
      events.push(`${imageId}${fromCache ? ' (cache)' : ''}`),
    failed: ({ imageId }: { imageId: string }) => events.push(`${imageId} failed`),
  };
  const images = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      imageId: `i${i}`,
      file: new Blob([`file ${i}`]),
      name: `f${i}`,
    }));
  return { context, sink, log, events, images, decodeOptions };
}

describe('embedImageFiles', () => {
  it('decodes the next batch while the tower runs, and reports in the order of the files', async () => {
    const { context, sink, log, events, images, decodeOptions } = harness({ bad: ['f2'] });
    const result = await embedImageFiles({ images: images(5), thumbnailSize: 0 }, sink, context);
    expect(result).toMatchObject({ embedded: 4, failed: 1, cancelled: false });
    expect(events).toEqual(['i0', 'i1', 'i2 failed', 'i3', 'i4']);
    // While the first batch (f0, f1) is in the tower, f2 and f3 are decoded; f4 waits for room (one batch ahead).
    const firstTowerDone = log.indexOf('tower done');
    expect(log.indexOf('decode f2')).toBeLessThan(firstTowerDone);
    expect(log.indexOf('decode f3')).toBeGreaterThan(log.indexOf('tower 2'));
    expect(log.indexOf('decode f3')).toBeLessThan(firstTowerDone);
    expect(log.indexOf('decode f4')).toBeGreaterThan(log.indexOf('tower 2'));
    // The decoder is asked to reduce large pictures with the embedder's own factors.
    expect(decodeOptions[0]?.reducingFactors).toBe(context.embedder.reducingFactors);
  });

  it('reports cached images without decoding them, and stops between batches', async () => {
    const first = harness();
    const cache = new MemoryEmbeddingCache();
    const withCache = { ...first.context, cache: { store: cache, modelKey: () => 'm' } };
    await embedImageFiles({ images: first.images(2), thumbnailSize: 0 }, first.sink, withCache);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the cache writes are not awaited
    first.events.length = 0;
    first.log.length = 0;
    await embedImageFiles({ images: first.images(3), thumbnailSize: 0 }, first.sink, withCache);
    expect(first.events).toEqual(['i0 (cache)', 'i1 (cache)', 'i2']);
    expect(first.log.filter((line) => line.startsWith('decode'))).toEqual(['decode f2']);

    const stopping = harness({ stopAfterTowerRuns: 1 });
    const result = await embedImageFiles(
      { images: stopping.images(6), thumbnailSize: 0 },
      stopping.sink,
      stopping.context,
    );
    expect(result).toMatchObject({ embedded: 2, cancelled: true });
    expect(stopping.events).toEqual(['i0', 'i1']);
  });
});
