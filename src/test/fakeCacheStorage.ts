/**
 * An in-memory CacheStorage for tests (Node has no Cache API): enough of `caches` and Cache for
 * CacheStorageModelStore, storing bodies and headers by URL. An optional quota applies to the bodies of
 * `application/octet-stream` entries only (the model bytes), so small JSON records do not move the numbers a test
 * checks; a put beyond it fails with a QuotaExceededError as a browser's does.
 */
import type { CacheLike, CacheStorageLike } from '../engine/storage/cacheModelStore';
import type { StorageSpace } from '../engine/storage/modelStore';

interface Entry {
  body: Uint8Array<ArrayBuffer>;
  headers: [string, string][];
}

const isCounted = (entry: Entry) =>
  entry.headers.some(([name, value]) => name === 'content-type' && value === 'application/octet-stream');

export class FakeCache implements CacheLike {
  readonly entries = new Map<string, Entry>();

  constructor(private readonly storage: FakeCacheStorage) {}

  async match(request: string): Promise<Response | undefined> {
    const entry = this.entries.get(new URL(request).href);
    return entry ? new Response(entry.body.slice(), { headers: entry.headers }) : undefined;
  }

  async put(request: string, response: Response): Promise<void> {
    const url = new URL(request).href;
    const entry: Entry = {
      body: new Uint8Array(await response.arrayBuffer()),
      headers: [...response.headers.entries()],
    };
    const quota = this.storage.quotaBytes;
    if (quota !== undefined && isCounted(entry)) {
      const replaced = this.entries.get(url);
      const freed = replaced && isCounted(replaced) ? replaced.body.length : 0;
      if (this.storage.usage() - freed + entry.body.length > quota)
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    this.entries.set(url, entry);
  }

  async delete(request: string): Promise<boolean> {
    return this.entries.delete(new URL(request).href);
  }

  async keys(): Promise<readonly Request[]> {
    return [...this.entries.keys()].map((url) => new Request(url));
  }

  usage(): number {
    return [...this.entries.values()].filter(isCounted).reduce((sum, e) => sum + e.body.length, 0);
  }
}

export class FakeCacheStorage implements CacheStorageLike {
  readonly caches = new Map<string, FakeCache>();

  constructor(readonly quotaBytes?: number) {}

  async open(name: string): Promise<FakeCache> {
    let cache = this.caches.get(name);
    if (!cache) {
      cache = new FakeCache(this);
      this.caches.set(name, cache);
    }
    return cache;
  }

  async has(name: string): Promise<boolean> {
    return this.caches.has(name);
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }

  async keys(): Promise<string[]> {
    return [...this.caches.keys()];
  }

  usage(): number {
    return [...this.caches.values()].reduce((sum, cache) => sum + cache.usage(), 0);
  }

  /** What navigator.storage.estimate() would say, or null without a quota. */
  async estimate(): Promise<StorageSpace | null> {
    return this.quotaBytes === undefined ? null : { quota: this.quotaBytes, usage: this.usage() };
  }
}
