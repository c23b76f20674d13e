/**
 * The embedding cache in IndexedDB (page or worker): one record per (model, file content), with its thumbnail as a
 * Blob, and one per (text tower, templates, label). An index on the write time lets the oldest records go first
 * once a cap is passed.
 */
import type { CachedImage, CachedLabel, EmbeddingCache } from './embeddingCache';

const DATABASE = 'eva-lens-embeddings';
/** Version 2 added the label store, version 3 the probe passes; older versions' records are kept. */
const VERSION = 3;
const STORE = 'images';
const LABELS = 'labels';
const PROBES = 'probes';
const BY_TIME = 'storedAt';

interface LabelRecord {
  key: string;
  storedAt: number;
  embedding: ArrayBuffer;
  truncated: boolean;
}

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
  /** Label records kept at most (B/16: ~2 kB each, so 20,000 labels ≈ 40 MB). */
  maxLabels?: number;
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
  private readonly maxLabels: number;
  private readonly factory: IDBFactory;
  private readonly now: () => number;
  /** Writes since the last size check: counting on every write would double its cost. */
  private writesSinceTrim = 0;

  constructor(options: IdbEmbeddingCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxLabels = options.maxLabels ?? 20_000;
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
      await this.trim(db, STORE, this.maxEntries);
    }
  }

  async getLabels(keys: readonly string[]): Promise<(CachedLabel | null)[]> {
    if (keys.length === 0) return [];
    const db = await this.open();
    const store = db.transaction(LABELS).objectStore(LABELS);
    const records = await Promise.all(
      keys.map((key) => request(store.get(key)) as Promise<LabelRecord | undefined>),
    );
    return records.map((record) =>
      record ? { embedding: new Float32Array(record.embedding), truncated: record.truncated } : null,
    );
  }

  async putLabels(entries: readonly (readonly [string, CachedLabel])[]): Promise<void> {
    if (entries.length === 0) return;
    const db = await this.open();
    const transaction = db.transaction(LABELS, 'readwrite');
    const store = transaction.objectStore(LABELS);
    const storedAt = this.now();
    for (const [key, value] of entries) {
      const record: LabelRecord = {
        key,
        storedAt,
        embedding: Float32Array.from(value.embedding).buffer,
        truncated: value.truncated,
      };
      store.put(record);
    }
    await done(transaction);
    await this.trim(db, LABELS, this.maxLabels);
  }

  async getProbePass(key: string): Promise<number | null> {
    const db = await this.open();
    const record = (await request(db.transaction(PROBES).objectStore(PROBES).get(key))) as
      { cosine: number } | undefined;
    return record?.cosine ?? null;
  }

  async putProbePass(key: string, cosine: number): Promise<void> {
    const db = await this.open();
    const transaction = db.transaction(PROBES, 'readwrite');
    transaction.objectStore(PROBES).put({ key, storedAt: this.now(), cosine });
    await done(transaction);
  }

  async clear(): Promise<number> {
    const db = await this.open();
    const count = await this.count();
    const transaction = db.transaction([STORE, LABELS, PROBES], 'readwrite');
    transaction.objectStore(STORE).clear();
    transaction.objectStore(LABELS).clear();
    transaction.objectStore(PROBES).clear();
    await done(transaction);
    return count;
  }

  async count(): Promise<number> {
    const db = await this.open();
    return request(db.transaction(STORE).objectStore(STORE).count());
  }

  /** Deletes the oldest records of `storeName` above `cap`. */
  private async trim(db: IDBDatabase, storeName: string, cap: number): Promise<void> {
    const transaction = db.transaction(storeName, 'readwrite');
    const store = transaction.objectStore(storeName);
    let excess = (await request(store.count())) - cap;
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
      const req = this.factory.open(DATABASE, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const name of [STORE, LABELS, PROBES]) {
          if (db.objectStoreNames.contains(name)) continue;
          db.createObjectStore(name, { keyPath: 'key' }).createIndex(BY_TIME, 'storedAt');
        }
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
