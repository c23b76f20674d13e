/**
 * Persistent storage for downloaded and imported models, so a model is fetched once and then works offline.
 *
 * A stored model is a folder of files plus its manifest. Files are written as partials (`beginWrite`) that survive a
 * reload, so a download can resume where it stopped, and reach their final name only on `commit`: a half-written file
 * never sits under the name the engine reads. The manifest is written last (`putManifest`), which is what makes a model
 * listed: `list()` and `has()` only see complete models, `listIncomplete()` the folders a download left unfinished.
 *
 * This module holds the contract and what the implementations share. Implementations: `OpfsModelStore` (Origin
 * Private File System), `CacheStorageModelStore` (Cache Storage, where there is no OPFS) and `MemoryModelStore`
 * (tests, and the last resort); `openModelStore()` (openModelStore.ts) picks one.
 */
import { formatBytes } from '../../core/format';
import { ModelFileError, StorageFullError } from '../../core/errors';
import type { ModelManifest } from '../../core/manifest';
import { validateManifest } from '../library/manifestValidation';

// Kept importable from here: the error was born in this module before it joined the engine's named errors.
export { StorageFullError } from '../../core/errors';

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

/**
 * A model folder with committed files or partials but no manifest: a download (or import) that stopped before the
 * end. A complete model with a partial of another variant is listed by `list()` only.
 */
export interface IncompleteModel {
  modelId: string;
  /** Bytes of its committed files and partials. */
  bytes: number;
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
 * A file being written. Appends go to a partial that survives a reload (each store checkpoints it), so a new
 * `beginWrite` for the same path resumes from `bytesWritten`.
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
  /** Short name for status lines ('OPFS', 'Cache Storage', 'memory'). */
  readonly kind: string;
  list(): Promise<StoredModel[]>;
  /** Folders with files but no manifest (see IncompleteModel). */
  listIncomplete(): Promise<IncompleteModel[]>;
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
export async function guardQuota<T>(
  store: Pick<ModelStore, 'estimate'>,
  partial: { path: string; expectedBytes: number; bytesWritten: number },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isQuotaError(error)) throw error;
    const needed = partial.expectedBytes - partial.bytesWritten;
    const space = await store.estimate().catch(() => null);
    // An estimate that shows room contradicts the refusal (the disk itself is full, or a quota the estimate does
    // not show): say the storage is full rather than quote a free size that is not there.
    const isEstimateTrusted = space !== null && space.quota - space.usage < needed;
    throw storageFullError(partial.path, needed, isEstimateTrusted ? space : null);
  }
}

/** `navigator.storage.estimate()` where the browser has it (page and workers), else null. */
export async function navigatorEstimate(): Promise<StorageSpace | null> {
  const storage = globalThis.navigator?.storage;
  if (typeof storage?.estimate !== 'function') return null;
  const { quota, usage } = await storage.estimate();
  return typeof quota === 'number' && typeof usage === 'number' ? { quota, usage } : null;
}

export function notStored(modelId: string, path: string): ModelFileError {
  return new ModelFileError(
    `${path} of model ${modelId} is not stored in this browser. Download the model again.`,
  );
}

export function sizeMismatch(path: string, written: number, expected: number): ModelFileError {
  return new ModelFileError(
    `${path} cannot be stored: ${written} of its ${expected} bytes were written. Retry the download.`,
  );
}

/** The record stored beside a model's files. */
export interface ManifestRecord {
  storedAt: number;
  manifest: ModelManifest;
}

export function parseManifestRecord(json: unknown, source: string): ManifestRecord | null {
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

/** The size a resumed partial starts from: its own, unless it is longer than the file now expected (start over). */
export function resumableBytes(partialBytes: number, expectedBytes: number): number {
  return partialBytes > expectedBytes ? 0 : partialBytes;
}
