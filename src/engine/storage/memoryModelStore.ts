/**
 * A ModelStore in memory: for tests, and the last resort when the browser offers neither OPFS nor Cache Storage (a
 * model then lasts until the page closes).
 */
import type { ModelManifest } from '../../core/manifest';
import {
  guardQuota,
  notStored,
  sizeMismatch,
  type IncompleteModel,
  type ManifestRecord,
  type ModelStore,
  type PartialFile,
  type StorageSpace,
  type StoredFileInfo,
  type StoredModel,
} from './modelStore';

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

const sum = (values: Iterable<number>) => [...values].reduce((total, value) => total + value, 0);

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
      const bytes = sum([...model.files.values()].map((file) => file.length));
      listed.push({ id, name: model.record.manifest.name, bytes, ...model.record });
    }
    return listed;
  }

  async listIncomplete(): Promise<IncompleteModel[]> {
    const incomplete: IncompleteModel[] = [];
    for (const [modelId, model] of this.models) {
      if (model.record || (model.files.size === 0 && model.partials.size === 0)) continue;
      const committed = sum([...model.files.values()].map((file) => file.length));
      const partial = sum([...model.partials.values()].map((p) => p.bytes));
      incomplete.push({ modelId, bytes: committed + partial });
    }
    return incomplete;
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
