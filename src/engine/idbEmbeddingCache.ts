/**
 * The embedding cache in IndexedDB (page or worker): one record per (model, file content), with its thumbnail as a
 * Blob. An index on the write time lets the oldest records go first once the cap is passed.
 */
import type { CachedImage, EmbeddingCache } from './embeddingCache';

const DATABASE = 'eva-lens-embeddings';
const STORE = 'images';
const BY_TIME = 'storedAt';

interface ImageRecord {
  key: string;
  storedAt: number;
  /** The embedding's bytes (an ArrayBuffer keeps the record compact: 4 bytes a float). */
  embedding: ArrayBuffer;
  width: number;
  height: number;
  thumbnail: Blob | null;
}

export interface IdbEmbeddingCacheOptions {
  /** Records kept at most; a B/16 record is ~2 kB of embedding plus a ~5–15 kB thumbnail. */
  maxEntries?: number;
  factory?: IDBFactory;
  now?: () => number;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed.'));
  });
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed.'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted.'));
  });
}

export class IdbEmbeddingCache implements EmbeddingCache {
  private database: Promise<IDBDatabase> | null = null;
  private readonly maxEntries: number;
  private readonly factory: IDBFactory;
  private readonly now: () => number;
  /** Writes since the last size check: counting on every write would double its cost. */
  private writesSinceTrim = 0;

  constructor(options: IdbEmbeddingCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.factory = options.factory ?? indexedDB;
    this.now = options.now ?? (() => Date.now());
  }

  async get(key: string): Promise<CachedImage | null> {
    const db = await this.open();
    const record = (await request(db.transaction(STORE).objectStore(STORE).get(key))) as
      ImageRecord | undefined;
    if (!record) return null;
    return {
      embedding: new Float32Array(record.embedding),
      width: record.width,
      height: record.height,
      thumbnail: record.thumbnail,
    };
  }

  async put(key: string, value: CachedImage): Promise<void> {
    const db = await this.open();
    const record: ImageRecord = {
      key,
      storedAt: this.now(),
      embedding: Float32Array.from(value.embedding).buffer,
      width: value.width,
      height: value.height,
      thumbnail: value.thumbnail,
    };
    const transaction = db.transaction(STORE, 'readwrite');
    transaction.objectStore(STORE).put(record);
    await done(transaction);
    if (++this.writesSinceTrim >= 64 || this.maxEntries < 64) {
      this.writesSinceTrim = 0;
      await this.trim(db);
    }
  }

  async clear(): Promise<number> {
    const db = await this.open();
    const count = await this.count();
    const transaction = db.transaction(STORE, 'readwrite');
    transaction.objectStore(STORE).clear();
    await done(transaction);
    return count;
  }

  async count(): Promise<number> {
    const db = await this.open();
    return request(db.transaction(STORE).objectStore(STORE).count());
  }

  /** Deletes the oldest records above the cap. */
  private async trim(db: IDBDatabase): Promise<void> {
    const transaction = db.transaction(STORE, 'readwrite');
    const store = transaction.objectStore(STORE);
    let excess = (await request(store.count())) - this.maxEntries;
    if (excess > 0) {
      const cursorRequest = store.index(BY_TIME).openCursor();
      cursorRequest.onsuccess = () => {
        const cursor = cursorRequest.result;
        if (!cursor || excess <= 0) return;
        cursor.delete();
        excess--;
        cursor.continue();
      };
    }
    await done(transaction);
  }

  private open(): Promise<IDBDatabase> {
    this.database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = this.factory.open(DATABASE, 1);
      req.onupgradeneeded = () => {
        const store = req.result.createObjectStore(STORE, { keyPath: 'key' });
        store.createIndex(BY_TIME, 'storedAt');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened.'));
      req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of an older version.'));
    }).catch((error: unknown) => {
      this.database = null;
      throw error;
    });
    return this.database;
  }
}
