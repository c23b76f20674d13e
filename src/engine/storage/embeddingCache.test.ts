import { describe, expect, it } from 'vitest';
import {
  FailSafeEmbeddingCache,
  MemoryEmbeddingCache,
  fileSha256,
  imageCacheKey,
  type CachedImage,
  type EmbeddingCache,
} from './embeddingCache';

const image = (value: number): CachedImage => ({
  embedding: Float32Array.of(value, 0),
  width: 4,
  height: 3,
  thumbnail: null,
});

describe('embedding cache keys', () => {
  it('depend on the bytes, not the name, and on the model', async () => {
    const a = await fileSha256(new File(['same bytes'], 'a.jpg'));
    const b = await fileSha256(new File(['same bytes'], 'renamed.jpg'));
    const c = await fileSha256(new File(['other bytes'], 'a.jpg'));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(imageCacheKey('m/int8/abc', a)).not.toBe(imageCacheKey('m/q4/def', a));
  });
});

describe('MemoryEmbeddingCache', () => {
  it('keeps the newest entries up to its cap', async () => {
    const cache = new MemoryEmbeddingCache(2);
    await cache.put('a', image(1));
    await cache.put('b', image(2));
    await cache.put('a', image(3)); // rewriting makes 'a' the newest
    await cache.put('c', image(4));
    expect(await cache.get('b')).toBeNull();
    expect((await cache.get('a'))?.embedding[0]).toBe(3);
    expect(await cache.count()).toBe(2);
    expect(await cache.clear()).toBe(2);
    expect(await cache.count()).toBe(0);
  });
});

describe('FailSafeEmbeddingCache', () => {
  it('turns itself off at the first failure instead of failing the caller', async () => {
    let calls = 0;
    const broken: EmbeddingCache = {
      get: async () => {
        calls++;
        throw new DOMException('The user denied permission to access the database.', 'InvalidStateError');
      },
      put: async () => {
        calls++;
      },
      getLabels: async () => {
        calls++;
        throw new DOMException('closed', 'InvalidStateError');
      },
      putLabels: async () => {
        calls++;
      },
      getProbePass: async () => null,
      putProbePass: async () => undefined,
      clear: async () => 0,
      count: async () => 0,
    };
    const cache = new FailSafeEmbeddingCache(broken);
    expect(await cache.get('a')).toBeNull();
    expect(cache.disabledReason).toMatch(/denied permission/);
    await cache.put('a', image(1));
    expect(calls).toBe(1);
  });
});
