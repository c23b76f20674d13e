/**
 * Persistent storage for downloaded models, so a model is fetched once and then works offline.
 *
 * A stored model is a folder of files plus its manifest. Files are written as partials (`beginWrite`) that survive a
 * reload, so a download can resume where it stopped, and reach their final name only on `commit`: a half-written file
 * never sits under the name the engine reads. The manifest is written last (`putManifest`), which is what makes a model
 * listed: `list()` and `has()` only see complete models.
 *
 * Two implementations: `OpfsModelStore` (Origin Private File System; page or dedicated worker) and `MemoryModelStore`
 * (tests, and the fallback when the browser has no OPFS). `openModelStore()` picks one.
 */
import { ModelFileError, describeError } from './errors';
import type { ModelManifest } from './manifest';
import { validateManifest } from './manifestValidation';

/** A complete model as the store lists it. */
export interface StoredModel {
  id: string;
  name: string;
  /** Bytes of its committed files (partials of a download under way are not counted). */
  bytes: number;
  /** When its manifest was written, in ms since the epoch. */
  storedAt: number;
  /** The manifest as stored: its variants are the ones whose files are all stored. */
  manifest: ModelManifest;
}

/** What the store holds of one file: the committed size, and the size of a partial left by an unfinished download. */
export interface StoredFileInfo {
  committedBytes: number | null;
  partialBytes: number | null;
}

/** Browser storage as `navigator.storage.estimate()` reports it. */
export interface StorageSpace {
  quota: number;
  usage: number;
}

/**
 * A file being written. Appends go to `<path>` + a partial suffix; the bytes so far survive a reload (the OPFS store
 * checkpoints them), so a new `beginWrite` for the same path resumes from `bytesWritten`.
 */
export interface PartialFile {
  readonly path: string;
  readonly expectedBytes: number;
  readonly bytesWritten: number;
  /** @throws StorageFullError when the browser refuses the bytes (the partial keeps what it had). */
  append(chunk: Uint8Array): Promise<void>;
  /** Drops the bytes written so far (a server that ignored the Range request sends the file from byte 0). */
  restart(): Promise<void>;
  /** Stops writing and returns the bytes written, for the checksum. Only commit, abort or close may follow. */
  contents(): Promise<Blob>;
  /** Gives the file its final name. @throws ModelFileError unless exactly `expectedBytes` were written. */
  commit(): Promise<void>;
  /** Releases the file and keeps the partial, so a later download resumes from it. */
  close(): Promise<void>;
  /** Deletes the partial. */
  abort(): Promise<void>;
}

export interface ModelStore {
  /** Short name for status lines ('OPFS', 'memory'). */
  readonly kind: string;
  list(): Promise<StoredModel[]>;
  /** True when the model is complete (its manifest is stored). */
  has(modelId: string): Promise<boolean>;
  /** @throws ModelFileError when the file is not stored (committed). */
  readFile(modelId: string, path: string): Promise<Blob>;
  fileInfo(modelId: string, path: string): Promise<StoredFileInfo>;
  /** Opens the partial for `path`, creating it or resuming the one a previous download left. */
  beginWrite(modelId: string, path: string, expectedBytes: number): Promise<PartialFile>;
  /** Writes the manifest, which makes the model listed; call it after every file is committed. */
  putManifest(manifest: ModelManifest): Promise<void>;
  /** Removes the model: manifest, committed files and partials. Other models are untouched. */
  delete(modelId: string): Promise<void>;
  /** Quota and usage of this origin's storage, or null when the browser does not say. */
  estimate(): Promise<StorageSpace | null>;
}

/**
 * The browser refused to store more bytes (quota or disk full). Thrown before a download starts when the estimate
 * shows too little space, and when a write hits the quota; nothing else stored is removed.
 */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    message: string,
    /** Bytes still needed, when known. */
    readonly neededBytes: number | null = null,
    /** Bytes free (quota − usage), when known. */
    readonly freeBytes: number | null = null,
  ) {
    super(message);
  }
}

/** Bytes as people read them: '812 bytes', '4.2 MB', '1.31 GB' (decimal units, as browsers and disks report). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.max(0, Math.round(bytes))} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** The StorageFullError for needing `neededBytes` more while `space` is what the browser reports. */
export function storageFullError(
  what: string,
  neededBytes: number,
  space: StorageSpace | null,
): StorageFullError {
  const retry = 'Delete a stored model or free disk space, then retry.';
  if (!space) {
    return new StorageFullError(
      `The browser refused to store ${what}: it needs ${formatBytes(neededBytes)} more and the storage is full. ${retry}`,
      neededBytes,
    );
  }
  const free = Math.max(0, space.quota - space.usage);
  return new StorageFullError(
    `Not enough storage for ${what}: it needs ${formatBytes(neededBytes)} more, but only ${formatBytes(free)} ` +
      `is free in this browser's storage for this site. ${retry}`,
    neededBytes,
    free,
  );
}

/** True for the quota errors browsers throw (a DOMException, or the newer QuotaExceededError class). */
export function isQuotaError(error: unknown): boolean {
  return error instanceof Error && error.name === 'QuotaExceededError';
}

/** Runs a write; a quota error becomes a StorageFullError that says how much was needed and how much is free. */
async function guardQuota<T>(
  store: Pick<ModelStore, 'estimate'>,
  partial: { path: string; expectedBytes: number; bytesWritten: number },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isQuotaError(error)) throw error;
    const space = await store.estimate().catch(() => null);
    throw storageFullError(partial.path, partial.expectedBytes - partial.bytesWritten, space);
  }
}

async function navigatorEstimate(): Promise<StorageSpace | null> {
  const storage = globalThis.navigator?.storage;
  if (typeof storage?.estimate !== 'function') return null;
  const { quota, usage } = await storage.estimate();
  return typeof quota === 'number' && typeof usage === 'number' ? { quota, usage } : null;
}

function notStored(modelId: string, path: string): ModelFileError {
  return new ModelFileError(
    `${path} of model ${modelId} is not stored in this browser. Download the model again.`,
  );
}

function sizeMismatch(path: string, written: number, expected: number): ModelFileError {
  return new ModelFileError(
    `${path} cannot be stored: ${written} of its ${expected} bytes were written. Retry the download.`,
  );
}

/** The record stored beside a model's files. */
interface ManifestRecord {
  storedAt: number;
  manifest: ModelManifest;
}

function parseManifestRecord(json: unknown, source: string): ManifestRecord | null {
  if (typeof json !== 'object' || json === null) return null;
  const { storedAt, manifest } = json as Record<string, unknown>;
  if (typeof storedAt !== 'number') return null;
  try {
    return { storedAt, manifest: validateManifest(manifest, source) };
  } catch {
    // A record from an older schema or a torn write: the model is not listed, and a download repairs it.
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Memory

interface MemoryPartial {
  chunks: Uint8Array<ArrayBuffer>[];
  bytes: number;
}

interface MemoryModel {
  record: ManifestRecord | null;
  files: Map<string, Uint8Array<ArrayBuffer>>;
  partials: Map<string, MemoryPartial>;
}

export interface MemoryModelStoreOptions {
  /** Simulated quota in bytes: appends beyond it fail as a browser's would. Unlimited when absent. */
  quotaBytes?: number;
  now?: () => number;
}

/**
 * Keeps models in memory for this page. Partials outlive their PartialFile (as OPFS partials outlive a reload), so
 * reusing one store instance across downloads is how tests simulate a reload.
 */
export class MemoryModelStore implements ModelStore {
  readonly kind = 'memory';
  private readonly models = new Map<string, MemoryModel>();
  private readonly now: () => number;

  constructor(private readonly options: MemoryModelStoreOptions = {}) {
    this.now = options.now ?? (() => Date.now());
  }

  async list(): Promise<StoredModel[]> {
    const listed: StoredModel[] = [];
    for (const [id, model] of this.models) {
      if (!model.record) continue;
      const bytes = [...model.files.values()].reduce((sum, file) => sum + file.length, 0);
      listed.push({ id, name: model.record.manifest.name, bytes, ...model.record });
    }
    return listed;
  }

  async has(modelId: string): Promise<boolean> {
    return this.models.get(modelId)?.record != null;
  }

  async readFile(modelId: string, path: string): Promise<Blob> {
    const file = this.models.get(modelId)?.files.get(path);
    if (!file) throw notStored(modelId, path);
    return new Blob([file]);
  }

  async fileInfo(modelId: string, path: string): Promise<StoredFileInfo> {
    const model = this.models.get(modelId);
    return {
      committedBytes: model?.files.get(path)?.length ?? null,
      partialBytes: model?.partials.get(path)?.bytes ?? null,
    };
  }

  async beginWrite(modelId: string, path: string, expectedBytes: number): Promise<PartialFile> {
    const model = this.model(modelId);
    let partial = model.partials.get(path);
    if (!partial || partial.bytes > expectedBytes) {
      partial = { chunks: [], bytes: 0 };
      model.partials.set(path, partial);
    }
    return this.partialFile(model, path, expectedBytes, partial);
  }

  async putManifest(manifest: ModelManifest): Promise<void> {
    this.model(manifest.id).record = { storedAt: this.now(), manifest: structuredClone(manifest) };
  }

  async delete(modelId: string): Promise<void> {
    this.models.delete(modelId);
  }

  async estimate(): Promise<StorageSpace | null> {
    if (this.options.quotaBytes === undefined) return null;
    return { quota: this.options.quotaBytes, usage: this.usage() };
  }

  private usage(): number {
    let usage = 0;
    for (const model of this.models.values()) {
      for (const file of model.files.values()) usage += file.length;
      for (const partial of model.partials.values()) usage += partial.bytes;
    }
    return usage;
  }

  private model(modelId: string): MemoryModel {
    let model = this.models.get(modelId);
    if (!model) {
      model = { record: null, files: new Map(), partials: new Map() };
      this.models.set(modelId, model);
    }
    return model;
  }

  private partialFile(
    model: MemoryModel,
    path: string,
    expectedBytes: number,
    state: MemoryPartial,
  ): PartialFile {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the returned object needs the store, not itself
    const store = this;
    return {
      path,
      expectedBytes,
      get bytesWritten() {
        return state.bytes;
      },
      async append(chunk) {
        await guardQuota(store, this, async () => {
          const quota = store.options.quotaBytes;
          if (quota !== undefined && store.usage() + chunk.length > quota) {
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          }
          // Copy: the caller may reuse its buffer.
          state.chunks.push(new Uint8Array(chunk));
          state.bytes += chunk.length;
        });
      },
      async restart() {
        state.chunks = [];
        state.bytes = 0;
      },
      async contents() {
        return new Blob(state.chunks);
      },
      async commit() {
        if (state.bytes !== expectedBytes) throw sizeMismatch(path, state.bytes, expectedBytes);
        model.files.set(path, new Uint8Array(await new Blob(state.chunks).arrayBuffer()));
        model.partials.delete(path);
      },
      async close() {},
      async abort() {
        if (model.partials.get(path) === state) model.partials.delete(path);
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// OPFS

/** Folder under the OPFS root that holds one folder per model. */
const MODELS_FOLDER = 'eva-lens-models';
/**
 * File names are `encodeURIComponent(path)`, which always encodes '#': names with '#' can never collide with a
 * model file, so they mark the manifest record and the partials.
 */
const MANIFEST_RECORD = '#manifest.json';
const PARTIAL_SUFFIX = '#part';

const fileName = (path: string) => encodeURIComponent(path);
const partialName = (path: string) => fileName(path) + PARTIAL_SUFFIX;

export interface OpfsModelStoreOptions {
  /** The OPFS root (default `navigator.storage.getDirectory()`); tests and other hosts can pass their own. */
  root?: () => Promise<FileSystemDirectoryHandle>;
  estimate?: () => Promise<StorageSpace | null>;
  /**
   * Page writers (createWritable) only persist on close, and reopening copies the file, so they checkpoint after
   * max(this, a quarter of the bytes written): at most ~20% of a file is lost on reload and copying stays linear.
   */
  minCheckpointBytes?: number;
  /** Worker writers (sync access handles) write in place and flush every this many bytes. */
  flushBytes?: number;
  now?: () => number;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NotFoundError' || error.name === 'TypeMismatchError');
}

/** FileSystemFileHandle.move() is in Chromium, Firefox and Safari but not yet in TypeScript's DOM types. */
interface MovableFileHandle extends FileSystemFileHandle {
  move(name: string): Promise<void>;
}

function canMove(handle: FileSystemFileHandle): handle is MovableFileHandle {
  return typeof (handle as Partial<MovableFileHandle>).move === 'function';
}

/** Sync access handles are exposed in dedicated workers only; they write in place, with no swap-file copy. */
function canSyncAccess(handle: FileSystemFileHandle): boolean {
  return typeof (handle as Partial<FileSystemFileHandle>).createSyncAccessHandle === 'function';
}

export class OpfsModelStore implements ModelStore {
  readonly kind = 'OPFS';
  private readonly options: Required<OpfsModelStoreOptions>;
  private modelsFolder: Promise<FileSystemDirectoryHandle> | null = null;

  constructor(options: OpfsModelStoreOptions = {}) {
    this.options = {
      root: options.root ?? (() => navigator.storage.getDirectory()),
      estimate: options.estimate ?? navigatorEstimate,
      minCheckpointBytes: options.minCheckpointBytes ?? 16 * 1024 * 1024,
      flushBytes: options.flushBytes ?? 4 * 1024 * 1024,
      now: options.now ?? (() => Date.now()),
    };
  }

  /** True when this context has an OPFS (secure context; not every private mode allows it). */
  static async isAvailable(): Promise<boolean> {
    try {
      await navigator.storage.getDirectory();
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<StoredModel[]> {
    const listed: StoredModel[] = [];
    for await (const handle of (await this.folder()).values()) {
      if (handle.kind !== 'directory') continue;
      const folder = handle as FileSystemDirectoryHandle;
      const record = await this.readRecord(folder);
      if (!record) continue;
      let bytes = 0;
      for await (const entry of folder.values()) {
        // Names with '#' are the manifest record and partials (see MANIFEST_RECORD).
        if (entry.kind === 'file' && !entry.name.includes('#')) {
          bytes += (await (entry as FileSystemFileHandle).getFile()).size;
        }
      }
      listed.push({ id: record.manifest.id, name: record.manifest.name, bytes, ...record });
    }
    return listed;
  }

  async has(modelId: string): Promise<boolean> {
    const folder = await this.modelFolder(modelId, false);
    return folder !== null && (await this.readRecord(folder)) !== null;
  }

  async readFile(modelId: string, path: string): Promise<Blob> {
    const file = await this.fileHandle(modelId, fileName(path));
    if (!file) throw notStored(modelId, path);
    return file.getFile();
  }

  async fileInfo(modelId: string, path: string): Promise<StoredFileInfo> {
    const size = async (name: string) => {
      const handle = await this.fileHandle(modelId, name);
      return handle ? (await handle.getFile()).size : null;
    };
    return { committedBytes: await size(fileName(path)), partialBytes: await size(partialName(path)) };
  }

  async beginWrite(modelId: string, path: string, expectedBytes: number): Promise<PartialFile> {
    const folder = (await this.modelFolder(modelId, true))!;
    const handle = await folder.getFileHandle(partialName(path), { create: true });
    const target = { folder, handle, path, expectedBytes, store: this };
    return canSyncAccess(handle)
      ? SyncPartialFile.open(target, this.options.flushBytes)
      : WritablePartialFile.open(target, this.options.minCheckpointBytes);
  }

  async putManifest(manifest: ModelManifest): Promise<void> {
    const folder = (await this.modelFolder(manifest.id, true))!;
    const record: ManifestRecord = { storedAt: this.options.now(), manifest };
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    await guardQuota(this, { path: 'the model manifest', expectedBytes: bytes.length, bytesWritten: 0 }, () =>
      writeWholeFile(folder, MANIFEST_RECORD, new Blob([bytes])),
    );
  }

  async delete(modelId: string): Promise<void> {
    try {
      await (await this.folder()).removeEntry(fileName(modelId), { recursive: true });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  estimate(): Promise<StorageSpace | null> {
    return this.options.estimate();
  }

  private folder(): Promise<FileSystemDirectoryHandle> {
    this.modelsFolder ??= this.options
      .root()
      .then((root) => root.getDirectoryHandle(MODELS_FOLDER, { create: true }))
      .catch((error: unknown) => {
        this.modelsFolder = null;
        throw new ModelFileError(`This browser cannot store models (${describeError(error)}).`);
      });
    return this.modelsFolder;
  }

  private async modelFolder(modelId: string, create: boolean): Promise<FileSystemDirectoryHandle | null> {
    try {
      return await (await this.folder()).getDirectoryHandle(fileName(modelId), { create });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async fileHandle(modelId: string, name: string): Promise<FileSystemFileHandle | null> {
    const folder = await this.modelFolder(modelId, false);
    if (!folder) return null;
    try {
      return await folder.getFileHandle(name);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async readRecord(folder: FileSystemDirectoryHandle): Promise<ManifestRecord | null> {
    try {
      const file = await (await folder.getFileHandle(MANIFEST_RECORD)).getFile();
      return parseManifestRecord(JSON.parse(await file.text()), `the stored model ${folder.name}`);
    } catch {
      return null;
    }
  }
}

/** Writes a whole file. createWritable replaces the file only on close, so a torn write leaves the old one. */
async function writeWholeFile(folder: FileSystemDirectoryHandle, name: string, data: Blob): Promise<void> {
  const handle = await folder.getFileHandle(name, { create: true });
  if (typeof handle.createWritable === 'function') {
    const writable = await handle.createWritable();
    try {
      await writable.write(data);
      await writable.close();
    } catch (error) {
      await writable.abort().catch(() => undefined);
      throw error;
    }
    return;
  }
  // Workers of browsers without createWritable (older Safari): write in place, then remove a torn file.
  const access = await handle.createSyncAccessHandle();
  try {
    access.truncate(0);
    const chunkBytes = 8 * 1024 * 1024;
    for (let at = 0; at < data.size; at += chunkBytes) {
      access.write(new Uint8Array(await data.slice(at, at + chunkBytes).arrayBuffer()), { at });
    }
    access.flush();
    access.close();
  } catch (error) {
    access.close();
    await folder.removeEntry(name).catch(() => undefined);
    throw error;
  }
}

interface PartialTarget {
  folder: FileSystemDirectoryHandle;
  handle: FileSystemFileHandle;
  path: string;
  expectedBytes: number;
  store: OpfsModelStore;
}

/** Moves the finished partial to its final name; never exposes a half-written file under that name. */
async function commitPartial(target: PartialTarget, bytesWritten: number): Promise<void> {
  const { folder, handle, path, expectedBytes } = target;
  if (bytesWritten !== expectedBytes) throw sizeMismatch(path, bytesWritten, expectedBytes);
  const finalName = fileName(path);
  await folder.removeEntry(finalName).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  if (canMove(handle)) {
    await handle.move(finalName);
    return;
  }
  await guardQuota(target.store, { path, expectedBytes, bytesWritten: 0 }, async () =>
    writeWholeFile(folder, finalName, await handle.getFile()),
  );
  await folder.removeEntry(partialName(path));
}

async function removePartial(target: PartialTarget): Promise<void> {
  await target.folder.removeEntry(partialName(target.path)).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

/** Dedicated-worker writer: a sync access handle writes in place; flush() makes the bytes survive a reload. */
class SyncPartialFile implements PartialFile {
  private unflushed = 0;
  private access: FileSystemSyncAccessHandle | null;

  private constructor(
    private readonly target: PartialTarget,
    access: FileSystemSyncAccessHandle,
    public bytesWritten: number,
    private readonly flushBytes: number,
  ) {
    this.access = access;
  }

  static async open(target: PartialTarget, flushBytes: number): Promise<PartialFile> {
    const access = await target.handle.createSyncAccessHandle();
    let size = access.getSize();
    if (size > target.expectedBytes) {
      access.truncate(0);
      size = 0;
    }
    return new SyncPartialFile(target, access, size, flushBytes);
  }

  get path(): string {
    return this.target.path;
  }

  get expectedBytes(): number {
    return this.target.expectedBytes;
  }

  async append(chunk: Uint8Array): Promise<void> {
    const access = this.open();
    await guardQuota(this.target.store, this, async () => {
      let done = 0;
      while (done < chunk.length) {
        const written = access.write(chunk.subarray(done), { at: this.bytesWritten + done });
        if (written === 0) throw new DOMException('No bytes could be written.', 'QuotaExceededError');
        done += written;
      }
      this.bytesWritten += chunk.length;
      this.unflushed += chunk.length;
      if (this.unflushed >= this.flushBytes) {
        access.flush();
        this.unflushed = 0;
      }
    });
  }

  async restart(): Promise<void> {
    const access = this.open();
    access.truncate(0);
    access.flush();
    this.bytesWritten = 0;
    this.unflushed = 0;
  }

  async contents(): Promise<Blob> {
    await this.close();
    return this.target.handle.getFile();
  }

  async commit(): Promise<void> {
    await this.close();
    await commitPartial(this.target, this.bytesWritten);
  }

  async close(): Promise<void> {
    if (!this.access) return;
    this.access.flush();
    this.access.close();
    this.access = null;
  }

  async abort(): Promise<void> {
    this.access?.close();
    this.access = null;
    await removePartial(this.target);
  }

  private open(): FileSystemSyncAccessHandle {
    if (!this.access) throw new Error(`${this.target.path}: the partial file was already closed.`);
    return this.access;
  }
}

/**
 * Page writer: createWritable writes to a swap file that replaces the partial on close, so bytes survive a reload
 * only after a checkpoint (close, then reopen with keepExistingData, which copies the file back into a swap file).
 */
class WritablePartialFile implements PartialFile {
  private sinceCheckpoint = 0;

  private constructor(
    private readonly target: PartialTarget,
    private writable: FileSystemWritableFileStream | null,
    public bytesWritten: number,
    private readonly minCheckpointBytes: number,
  ) {}

  static async open(target: PartialTarget, minCheckpointBytes: number): Promise<PartialFile> {
    let size = (await target.handle.getFile()).size;
    const writable = await target.handle.createWritable({ keepExistingData: true });
    if (size > target.expectedBytes) {
      await writable.truncate(0);
      size = 0;
    }
    await writable.seek(size);
    return new WritablePartialFile(target, writable, size, minCheckpointBytes);
  }

  get path(): string {
    return this.target.path;
  }

  get expectedBytes(): number {
    return this.target.expectedBytes;
  }

  async append(chunk: Uint8Array): Promise<void> {
    await guardQuota(this.target.store, this, async () => {
      await this.open().write(chunk as Uint8Array<ArrayBuffer>);
      this.bytesWritten += chunk.length;
      this.sinceCheckpoint += chunk.length;
      if (this.sinceCheckpoint >= Math.max(this.minCheckpointBytes, this.bytesWritten / 4)) {
        await this.checkpoint();
      }
    });
  }

  async restart(): Promise<void> {
    const writable = this.open();
    await writable.truncate(0);
    await writable.seek(0);
    this.bytesWritten = 0;
    await this.checkpoint();
  }

  async contents(): Promise<Blob> {
    await this.close();
    return this.target.handle.getFile();
  }

  async commit(): Promise<void> {
    await this.close();
    await commitPartial(this.target, this.bytesWritten);
  }

  async close(): Promise<void> {
    const writable = this.writable;
    if (!writable) return;
    this.writable = null;
    await guardQuota(this.target.store, this, () => writable.close());
  }

  async abort(): Promise<void> {
    await this.writable?.abort().catch(() => undefined);
    this.writable = null;
    await removePartial(this.target);
  }

  private async checkpoint(): Promise<void> {
    await this.close();
    this.writable = await this.target.handle.createWritable({ keepExistingData: true });
    await this.writable.seek(this.bytesWritten);
    this.sinceCheckpoint = 0;
  }

  private open(): FileSystemWritableFileStream {
    if (!this.writable) throw new Error(`${this.target.path}: the partial file was already closed.`);
    return this.writable;
  }
}

/** The OPFS store where this context has an OPFS, else memory (the model then lasts until the page closes). */
export async function openModelStore(): Promise<ModelStore> {
  return (await OpfsModelStore.isAvailable()) ? new OpfsModelStore() : new MemoryModelStore();
}
