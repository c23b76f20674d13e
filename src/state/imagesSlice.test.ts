import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewImage } from './imagesSlice';
import { resetStore } from './resetStore.testing';
import { useLensStore } from './store';

const state = () => useLensStore.getState();
const newImage = (id: string): NewImage => ({ id, name: `${id}.png`, size: 10, fileKey: id });
const embedded = (imageId: string, thumbnailUrl: string | null = `blob:${imageId}`) => ({
  kind: 'embedded' as const,
  imageId,
  embedding: new Float32Array([1, 0, 0]),
  width: 4,
  height: 3,
  thumbnailUrl,
  ms: 50,
  fromCache: false,
});

afterEach(() => {
  resetStore();
  vi.restoreAllMocks();
});

describe('images slice', () => {
  it('queues images in order and applies a batch of results with run statistics', () => {
    state().queueImages([newImage('a'), newImage('b'), newImage('c')]);
    state().addToRun(3, 1000);
    state().markImagesEmbedding(['a', 'b']);
    expect(state().imageIds).toEqual(['a', 'b', 'c']);
    expect(state().images.a!.status).toBe('embedding');

    state().applyImageResults(
      [embedded('a'), { kind: 'failed', imageId: 'b', message: 'Not an image.' }],
      3000,
    );
    const { images, run } = state();
    expect(images.a).toMatchObject({ status: 'done', width: 4, height: 3, ms: 50, thumbnailUrl: 'blob:a' });
    expect(images.b).toMatchObject({ status: 'failed', error: 'Not an image.' });
    expect(images.c!.status).toBe('queued');
    expect(run).toMatchObject({ isRunning: true, total: 3, embedded: 1, failed: 1, workerMs: 50 });
    expect(run.imagesPerSecond).toBeCloseTo(1); // 2 images in 2 s
  });

  it('grows an open run instead of restarting it', () => {
    state().addToRun(2, 0);
    state().addToRun(5, 10);
    expect(state().run).toMatchObject({ total: 7, startedAt: 0 });
    state().finishRun(true);
    expect(state().run).toMatchObject({ isRunning: false, wasCancelled: true });
    state().addToRun(1, 20);
    expect(state().run).toMatchObject({ total: 1, startedAt: 20, embedded: 0 });
  });

  it('revokes thumbnail URLs that are replaced, removed or cleared', () => {
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    state().queueImages([newImage('a'), newImage('b')]);
    state().applyImageResults([embedded('a', 'blob:a1'), embedded('b', 'blob:b1')], 1);
    state().applyImageResults([embedded('a', 'blob:a2')], 2);
    expect(revoke).toHaveBeenCalledWith('blob:a1');
    state().removeImage('a');
    expect(revoke).toHaveBeenCalledWith('blob:a2');
    expect(state().imageIds).toEqual(['b']);
    state().clearImages();
    expect(revoke).toHaveBeenCalledWith('blob:b1');
    expect(state().imageIds).toEqual([]);
  });

  it('frees the thumbnail of a result for an image removed meanwhile', () => {
    const revoke = vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
    state().applyImageResults([embedded('gone', 'blob:gone')], 1);
    expect(revoke).toHaveBeenCalledWith('blob:gone');
    expect(state().images.gone).toBeUndefined();
  });
});
