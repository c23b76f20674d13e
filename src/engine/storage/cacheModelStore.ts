/**
 * A ModelStore in Cache Storage, for browsers and modes without an OPFS. One cache per model, named
 * `eva-lens-model:<id>`; its entries are keyed by synthetic URLs under KEY_ORIGIN (never fetched):
 *
 *   manifest                                the manifest record (storedAt + manifest), written last
 *   file/<path>                             a committed file: the write id and sizes of its chunks (the chunk list)
 *   part/<path>                             a partial: its write id
 *   chunk/<path>/<writeId>/<index>/<bytes>  one chunk of a write
 *
 * A file is never copied: commit writes the chunk list that names the partial's chunks, and readFile returns a Blob
 * made of the chunk blobs (disk-backed in browsers). Every put is atomic, so a reload loses at most the bytes buffered
 * since the last chunk, and a resumed download continues after the last stored chunk. Sizes sit in the chunk keys, so
 * one `keys()` call measures a partial without reading it.
 */
import { ModelFileError } from '../../core/errors';
import type { ModelManifest } from '../../core/manifest';
import {
  guardQuota,
  navigatorEstimate,
  notStored,
  parseManifestRecord,
  sizeMismatch,
  type IncompleteModel,
  type ManifestRecord,
  type ModelStore,
  type PartialFile,
  type StorageSpace,
  type StoredFileInfo,
  type StoredModel,
} from './modelStore';

/** The part of the Cache interface the store uses (the browser's Cache fits; tests pass a fake). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
  keys(): Promise<readonly Request[]>;
}

/** The part of CacheStorage the store uses (`globalThis.caches` fits). */
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  has(name: string): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export interface CacheStorageModelStoreOptions {
  caches?: CacheStorageLike;
  estimate?: () => Promise<StorageSpace | null>;
  /**
   * Bytes buffered in memory before they are stored as one chunk entry: what a reload can lose, against how many
   * entries a file takes (75 for 300 MB at the default 4 MiB).
   */
  chunkBytes?: number;
  now?: () => number;
  newWriteId?: () => string;
}

/** Caches of this store carry this prefix; nothing else may use it (the service worker must leave them alone). */
export const MODEL_CACHE_PREFIX = 'eva-lens-model:';
/** A reserved name (RFC 2606): the keys are never fetched, they only need to be http(s) URLs, as Cache requires. */
const KEY_ORIGIN = 'https://eva-lens-model-store.invalid/';
const MANIFEST_KEY = `${KEY_ORIGIN}manifest`;
const CHUNK_KEY_PREFIX = `${KEY_ORIGIN}chunk/`;

const enc = encodeURIComponent;
const fileKey = (path: string) => `${KEY_ORIGIN}file/${enc(path)}`;
const partKey = (path: string) => `${KEY_ORIGIN}part/${enc(path)}`;
const chunkKey = (path: string, writeId: string, index: number, bytes: number) =>
  `${CHUNK_KEY_PREFIX}${enc(path)}/${enc(writeId)}/${index}/${bytes}`;

interface FileRecord {
  writeId: string;
  bytes: number;
  /** Sizes of the chunks, in order. */
  chunks: number[];
}

interface PartRecord {
  writeId: string;
}

interface ChunkEntry {
  path: string;
  writeId: string;
  index: number;
  bytes: number;
}

function parseChunkKey(url: string): ChunkEntry | null {
  if (!url.startsWith(CHUNK_KEY_PREFIX)) return null;
  const [path, writeId, index, bytes, extra] = url.slice(CHUNK_KEY_PREFIX.length).split('/');
  if (path === undefined || writeId === undefined || extra !== undefined) return null;
  const entry = {
    path: decodeURIComponent(path),
    writeId: decodeURIComponent(writeId),
    index: Number(index),
    bytes: Number(bytes),
  };
  return Number.isInteger(entry.index) && Number.isInteger(entry.bytes) ? entry : null;
}

async function readJson(cache: CacheLike, key: string): Promise<unknown> {
  const response = await cache.match(key);
  if (!response) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function readFileRecord(cache: CacheLike, path: string): Promise<FileRecord | null> {
  const json = (await readJson(cache, fileKey(path))) as Partial<FileRecord> | null;
  const valid =
    typeof json?.writeId === 'string' &&
    typeof json.bytes === 'number' &&
    Array.isArray(json.chunks) &&
    json.chunks.every((size) => Number.isInteger(size) && size > 0) &&
    json.chunks.reduce((sum, size) => sum + size, 0) === json.bytes;
  // A record that does not add up is treated as absent: the file is downloaded again.
  return valid ? (json as FileRecord) : null;
}

async function readPartRecord(cache: CacheLike, path: string): Promise<PartRecord | null> {
  const json = (await readJson(cache, partKey(path))) as Partial<PartRecord> | null;
  return typeof json?.writeId === 'string' ? { writeId: json.writeId } : null;
}

async function chunkEntries(cache: CacheLike): Promise<ChunkEntry[]> {
  return (await cache.keys()).flatMap((request) => parseChunkKey(request.url) ?? []);
}

/** The chunks of one write, in order, up to the first gap (a later chunk without its predecessor is useless). */
function contiguousChunks(entries: ChunkEntry[], path: string, writeId: string): ChunkEntry[] {
  const ofWrite = entries
    .filter((e) => e.path === path && e.writeId === writeId)
    .sort((a, b) => a.index - b.index);
  const run: ChunkEntry[] = [];
  for (const entry of ofWrite) {
    if (entry.index !== run.length) break;
    run.push(entry);
  }
  return run;
}

const jsonResponse = (value: unknown) =>
  new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json' } });

function damaged(modelId: string, path: string): ModelFileError {
  return new ModelFileError(
    `${path} of model ${modelId} is damaged in this browser's storage (part of it is missing). ` +
      `Delete the model and download it again.`,
  );
}

export class CacheStorageModelStore implements ModelStore {
  readonly kind = 'Cache Storage';
  private readonly caches: CacheStorageLike;
  private readonly chunkBytes: number;
  private readonly now: () => number;
  private readonly newWriteId: () => string;
  private readonly estimateSpace: () => Promise<StorageSpace | null>;

  constructor(options: CacheStorageModelStoreOptions = {}) {
    this.caches = options.caches ?? globalThis.caches;
    this.chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
    this.now = options.now ?? (() => Date.now());
    this.newWriteId = options.newWriteId ?? (() => crypto.randomUUID());
    this.estimateSpace = options.estimate ?? navigatorEstimate;
  }

  /** True when this context has Cache Storage that opens (secure contexts; some private modes refuse it). */
  static async isAvailable(caches: CacheStorageLike | undefined = globalThis.caches): Promise<boolean> {
    if (!caches) return false;
    try {
      await caches.has(MODEL_CACHE_PREFIX);
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<StoredModel[]> {
    const listed: StoredModel[] = [];
    for (const { modelId, cache } of await this.modelCaches()) {
      const record = await this.readRecord(cache, modelId);
      if (!record) continue;
      const { committed } = await this.measure(cache);
      listed.push({ id: record.manifest.id, name: record.manifest.name, bytes: committed, ...record });
    }
    return listed;
  }

  async listIncomplete(): Promise<IncompleteModel[]> {
    const incomplete: IncompleteModel[] = [];
    for (const { modelId, cache } of await this.modelCaches()) {
      if (await this.readRecord(cache, modelId)) continue;
      const { committed, partial, files } = await this.measure(cache);
      if (files > 0) incomplete.push({ modelId, bytes: committed + partial });
    }
    return incomplete;
  }

  async has(modelId: string): Promise<boolean> {
    const cache = await this.existingCache(modelId);
    return cache !== null && (await this.readRecord(cache, modelId)) !== null;
  }

  async readFile(modelId: string, path: string): Promise<Blob> {
    const cache = await this.existingCache(modelId);
    const record = cache && (await readFileRecord(cache, path));
    if (!cache || !record) throw notStored(modelId, path);
    const blob = await readChunks(cache, path, record.writeId, record.chunks);
    if (!blob) throw damaged(modelId, path);
    return blob;
  }

  async fileInfo(modelId: string, path: string): Promise<StoredFileInfo> {
    const cache = await this.existingCache(modelId);
    if (!cache) return { committedBytes: null, partialBytes: null };
    const file = await readFileRecord(cache, path);
    const part = await readPartRecord(cache, path);
    const partialBytes =
      part && part.writeId !== file?.writeId
        ? contiguousChunks(await chunkEntries(cache), path, part.writeId).reduce((s, c) => s + c.bytes, 0)
        : null;
    return { committedBytes: file?.bytes ?? null, partialBytes };
  }

  async beginWrite(modelId: string, path: string, expectedBytes: number): Promise<PartialFile> {
    const cache = await this.caches.open(this.cacheName(modelId));
    const file = await readFileRecord(cache, path);
    const part = await readPartRecord(cache, path);
    const entries = await chunkEntries(cache);
    // A part record naming the committed write is what a reload between the two puts of commit leaves.
    const resumable = part && part.writeId !== file?.writeId ? part.writeId : null;
    const writeId = resumable ?? this.newWriteId();
    const chunks = resumable ? contiguousChunks(entries, path, writeId) : [];
    // Chunks of neither the committed file nor the resumed write are leftovers of an interrupted restart or commit.
    const keep = new Set(chunks.map((c) => chunkKey(path, c.writeId, c.index, c.bytes)));
    for (const entry of entries) {
      if (entry.path !== path || entry.writeId === file?.writeId) continue;
      const key = chunkKey(path, entry.writeId, entry.index, entry.bytes);
      if (!keep.has(key)) await cache.delete(key);
    }
    const partial = new CachePartialFile(
      { cache, store: this, path, expectedBytes, writeId, chunkBytes: this.chunkBytes },
      chunks.map((c) => c.bytes),
    );
    if (!resumable) {
      await guardQuota(this, partial, () => cache.put(partKey(path), jsonResponse({ writeId })));
    } else if (partial.bytesWritten > expectedBytes) {
      await partial.restart();
    }
    return partial;
  }

  async putManifest(manifest: ModelManifest): Promise<void> {
    const cache = await this.caches.open(this.cacheName(manifest.id));
    const record: ManifestRecord = { storedAt: this.now(), manifest };
    await guardQuota(this, { path: 'the model manifest', expectedBytes: 0, bytesWritten: 0 }, () =>
      cache.put(MANIFEST_KEY, jsonResponse(record)),
    );
  }

  async delete(modelId: string): Promise<void> {
    await this.caches.delete(this.cacheName(modelId));
  }

  estimate(): Promise<StorageSpace | null> {
    return this.estimateSpace();
  }

  private cacheName(modelId: string): string {
    return MODEL_CACHE_PREFIX + enc(modelId);
  }

  /** The model's cache, or null; `caches.open` would create an empty one, which would then be listed. */
  private async existingCache(modelId: string): Promise<CacheLike | null> {
    const name = this.cacheName(modelId);
    return (await this.caches.has(name)) ? this.caches.open(name) : null;
  }

  private async modelCaches(): Promise<{ modelId: string; cache: CacheLike }[]> {
    const names = (await this.caches.keys()).filter((name) => name.startsWith(MODEL_CACHE_PREFIX));
    return Promise.all(
      names.map(async (name) => ({
        modelId: decodeURIComponent(name.slice(MODEL_CACHE_PREFIX.length)),
        cache: await this.caches.open(name),
      })),
    );
  }

  private async readRecord(cache: CacheLike, modelId: string): Promise<ManifestRecord | null> {
    return parseManifestRecord(await readJson(cache, MANIFEST_KEY), `the stored model ${modelId}`);
  }

  /** Committed and partial bytes of one model's cache, and how many files (committed or partial) it holds. */
  private async measure(cache: CacheLike): Promise<{ committed: number; partial: number; files: number }> {
    const requests = await cache.keys();
    const entries = requests.flatMap((request) => parseChunkKey(request.url) ?? []);
    const paths = (kind: 'file' | 'part') =>
      requests.flatMap(({ url }) => {
        const prefix = `${KEY_ORIGIN}${kind}/`;
        return url.startsWith(prefix) ? [decodeURIComponent(url.slice(prefix.length))] : [];
      });
    let committed = 0;
    let partial = 0;
    let files = 0;
    const committedWrites = new Map<string, string>();
    for (const path of paths('file')) {
      const record = await readFileRecord(cache, path);
      if (!record) continue;
      committed += record.bytes;
      committedWrites.set(path, record.writeId);
      files++;
    }
    for (const path of paths('part')) {
      const part = await readPartRecord(cache, path);
      if (!part || part.writeId === committedWrites.get(path)) continue;
      partial += contiguousChunks(entries, path, part.writeId).reduce((sum, c) => sum + c.bytes, 0);
      files++;
    }
    return { committed, partial, files };
  }
}

/** The chunks of a write as one Blob, or null when one is missing. */
async function readChunks(
  cache: CacheLike,
  path: string,
  writeId: string,
  sizes: readonly number[],
): Promise<Blob | null> {
  const blobs: Blob[] = [];
  for (const [index, bytes] of sizes.entries()) {
    const response = await cache.match(chunkKey(path, writeId, index, bytes));
    if (!response) return null;
    blobs.push(await response.blob());
  }
  return new Blob(blobs);
}

interface CachePartialTarget {
  cache: CacheLike;
  store: CacheStorageModelStore;
  path: string;
  expectedBytes: number;
  writeId: string;
  chunkBytes: number;
}

/** A partial in Cache Storage: appends are buffered and stored as numbered chunk entries of `chunkBytes`. */
class CachePartialFile implements PartialFile {
  private buffer: Uint8Array<ArrayBuffer>[] = [];
  private bufferedBytes = 0;
  private storedBytes: number;
  private closed = false;

  constructor(
    private readonly target: CachePartialTarget,
    /** Sizes of the chunks stored so far, in order. */
    private readonly chunks: number[],
  ) {
    this.storedBytes = chunks.reduce((sum, size) => sum + size, 0);
  }

  get path(): string {
    return this.target.path;
  }

  get expectedBytes(): number {
    return this.target.expectedBytes;
  }

  get bytesWritten(): number {
    return this.storedBytes + this.bufferedBytes;
  }

  async append(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: the partial file was already closed.`);
    // Copy: the caller may reuse its buffer.
    this.buffer.push(new Uint8Array(chunk));
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes >= this.target.chunkBytes) await this.flush();
  }

  async restart(): Promise<void> {
    this.dropBuffer();
    await this.deleteChunks();
  }

  async contents(): Promise<Blob> {
    await this.close();
    const blob = await readChunks(this.target.cache, this.path, this.target.writeId, this.chunks);
    if (!blob) throw new ModelFileError(`${this.path}: a chunk of the partial file is missing. Retry.`);
    return blob;
  }

  async commit(): Promise<void> {
    await this.close();
    if (this.storedBytes !== this.expectedBytes)
      throw sizeMismatch(this.path, this.storedBytes, this.expectedBytes);
    const { cache, path, writeId } = this.target;
    const previous = await readFileRecord(cache, path);
    const record: FileRecord = { writeId, bytes: this.storedBytes, chunks: [...this.chunks] };
    // The chunk list switches the file to the new chunks in one put; what follows only tidies up.
    await guardQuota(this.target.store, { path, expectedBytes: 0, bytesWritten: 0 }, () =>
      cache.put(fileKey(path), jsonResponse(record)),
    );
    await cache.delete(partKey(path));
    if (previous && previous.writeId !== writeId) {
      for (const [index, bytes] of previous.chunks.entries())
        await cache.delete(chunkKey(path, previous.writeId, index, bytes));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }

  async abort(): Promise<void> {
    this.closed = true;
    this.dropBuffer();
    await this.deleteChunks();
    await this.target.cache.delete(partKey(this.path));
  }

  /** Stores the buffered bytes as the next chunk. On a quota error they are dropped: the partial keeps what it had. */
  private async flush(): Promise<void> {
    if (this.bufferedBytes === 0) return;
    const parts = this.buffer;
    const bytes = this.bufferedBytes;
    this.dropBuffer();
    const { cache, path, writeId } = this.target;
    const key = chunkKey(path, writeId, this.chunks.length, bytes);
    const body = new Blob(parts, { type: 'application/octet-stream' });
    await guardQuota(this.target.store, this, () =>
      cache.put(key, new Response(body, { headers: { 'content-type': 'application/octet-stream' } })),
    );
    this.chunks.push(bytes);
    this.storedBytes += bytes;
  }

  private dropBuffer(): void {
    this.buffer = [];
    this.bufferedBytes = 0;
  }

  private async deleteChunks(): Promise<void> {
    const { cache, path, writeId } = this.target;
    for (const [index, bytes] of this.chunks.entries())
      await cache.delete(chunkKey(path, writeId, index, bytes));
    this.chunks.length = 0;
    this.storedBytes = 0;
  }
}
