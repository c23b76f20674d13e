/**
 * A ModelStore in the Origin Private File System: one folder per model under `eva-lens-models/`, files written in
 * place (a sync access handle in the worker) or through a swap file (createWritable on a page), partials renamed to
 * their final name on commit.
 */
import { ModelFileError, describeError } from '../../core/errors';
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
    for await (const folder of this.modelFolders()) {
      const record = await this.readRecord(folder);
      if (!record) continue;
      const { committed } = await folderBytes(folder);
      listed.push({ id: record.manifest.id, name: record.manifest.name, bytes: committed, ...record });
    }
    return listed;
  }

  async listIncomplete(): Promise<IncompleteModel[]> {
    const incomplete: IncompleteModel[] = [];
    for await (const folder of this.modelFolders()) {
      if (await this.readRecord(folder)) continue;
      const { committed, partial, files } = await folderBytes(folder);
      if (files > 0)
        incomplete.push({ modelId: decodeURIComponent(folder.name), bytes: committed + partial });
    }
    return incomplete;
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

  private async *modelFolders(): AsyncGenerator<FileSystemDirectoryHandle> {
    for await (const handle of (await this.folder()).values()) {
      if (handle.kind === 'directory') yield handle as FileSystemDirectoryHandle;
    }
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

/** Bytes of a model folder's committed files and of its partials, and how many of either it holds. */
async function folderBytes(
  folder: FileSystemDirectoryHandle,
): Promise<{ committed: number; partial: number; files: number }> {
  let committed = 0;
  let partial = 0;
  let files = 0;
  for await (const entry of folder.values()) {
    if (entry.kind !== 'file' || entry.name === MANIFEST_RECORD) continue;
    const size = (await (entry as FileSystemFileHandle).getFile()).size;
    // Committed names never contain '#' (see MANIFEST_RECORD); partials end in PARTIAL_SUFFIX.
    if (entry.name.endsWith(PARTIAL_SUFFIX)) partial += size;
    else committed += size;
    files++;
  }
  return { committed, partial, files };
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

/**
 * What both OPFS writers share: the target, the byte count, and the order of the last steps (a partial is closed,
 * then renamed, or released, then removed).
 */
abstract class OpfsPartialFile implements PartialFile {
  protected constructor(
    protected readonly target: PartialTarget,
    public bytesWritten: number,
  ) {}

  get path(): string {
    return this.target.path;
  }

  get expectedBytes(): number {
    return this.target.expectedBytes;
  }

  abstract append(chunk: Uint8Array): Promise<void>;
  abstract restart(): Promise<void>;
  /** Saves the bytes written and releases the file; the partial stays for a later resume. */
  abstract close(): Promise<void>;
  /** Releases the file without saving anything (the partial is about to be removed). */
  protected abstract release(): Promise<void>;

  async contents(): Promise<Blob> {
    await this.close();
    return this.target.handle.getFile();
  }

  async commit(): Promise<void> {
    await this.close();
    await commitPartial(this.target, this.bytesWritten);
  }

  async abort(): Promise<void> {
    await this.release();
    await removePartial(this.target);
  }

  protected closedError(): Error {
    return new Error(`${this.target.path}: the partial file was already closed.`);
  }
}

/** The size a partial resumes from: its own, unless it is longer than the file now expected (then it is emptied). */
async function resumeOffset(size: number, target: PartialTarget, truncate: () => unknown): Promise<number> {
  if (size <= target.expectedBytes) return size;
  await truncate();
  return 0;
}

/** Dedicated-worker writer: a sync access handle writes in place; flush() makes the bytes survive a reload. */
class SyncPartialFile extends OpfsPartialFile {
  private unflushed = 0;

  private constructor(
    target: PartialTarget,
    private access: FileSystemSyncAccessHandle | null,
    bytesWritten: number,
    private readonly flushBytes: number,
  ) {
    super(target, bytesWritten);
  }

  static async open(target: PartialTarget, flushBytes: number): Promise<PartialFile> {
    const access = await target.handle.createSyncAccessHandle();
    const size = await resumeOffset(access.getSize(), target, () => access.truncate(0));
    return new SyncPartialFile(target, access, size, flushBytes);
  }

  async append(chunk: Uint8Array): Promise<void> {
    const access = this.open();
    await guardQuota(this.target.store, this, async () => {
      let done = 0;
      while (done < chunk.length) {
        const written = access.write(chunk.subarray(done), { at: this.bytesWritten + done });
        // At the quota Chromium 156 does not throw: write() returns a negative error code as an unsigned number
        // (4294967288). Anything but a positive count no larger than asked is a refusal; the bytes of this chunk
        // that did land are cut off again, so the partial never holds more than `bytesWritten` good bytes.
        if (!(written > 0 && written <= chunk.length - done)) {
          access.truncate(this.bytesWritten);
          throw new DOMException('The browser refused to write more bytes.', 'QuotaExceededError');
        }
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

  async close(): Promise<void> {
    if (!this.access) return;
    this.access.flush();
    this.access.close();
    this.access = null;
  }

  protected async release(): Promise<void> {
    this.access?.close();
    this.access = null;
  }

  private open(): FileSystemSyncAccessHandle {
    if (!this.access) throw this.closedError();
    return this.access;
  }
}

/**
 * Page writer: createWritable writes to a swap file that replaces the partial on close, so bytes survive a reload
 * only after a checkpoint (close, then reopen with keepExistingData, which copies the file back into a swap file).
 */
class WritablePartialFile extends OpfsPartialFile {
  private sinceCheckpoint = 0;

  private constructor(
    target: PartialTarget,
    private writable: FileSystemWritableFileStream | null,
    bytesWritten: number,
    private readonly minCheckpointBytes: number,
  ) {
    super(target, bytesWritten);
  }

  static async open(target: PartialTarget, minCheckpointBytes: number): Promise<PartialFile> {
    const existing = (await target.handle.getFile()).size;
    const writable = await target.handle.createWritable({ keepExistingData: true });
    const size = await resumeOffset(existing, target, () => writable.truncate(0));
    await writable.seek(size);
    return new WritablePartialFile(target, writable, size, minCheckpointBytes);
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

  async close(): Promise<void> {
    const writable = this.writable;
    if (!writable) return;
    this.writable = null;
    await guardQuota(this.target.store, this, () => writable.close());
  }

  protected async release(): Promise<void> {
    await this.writable?.abort().catch(() => undefined);
    this.writable = null;
  }

  private async checkpoint(): Promise<void> {
    await this.close();
    this.writable = await this.target.handle.createWritable({ keepExistingData: true });
    await this.writable.seek(this.bytesWritten);
    this.sinceCheckpoint = 0;
  }

  private open(): FileSystemWritableFileStream {
    if (!this.writable) throw this.closedError();
    return this.writable;
  }
}
