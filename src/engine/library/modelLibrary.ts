/**
 * Model storage as the worker offers it to the page: what is stored, downloading and importing models into it (one
 * writer per model, across tabs too), and deleting them. The store is opened on first use and shared with the
 * engine, which loads stored models from it.
 */
import type { OrtModule } from '../inference/backend';
import { CancelledError, ModelBusyError } from '../../core/errors';
import { buildFromHub, fetchRecipe } from '../hub/buildFromHub';
import type { ModelManifest } from '../../core/manifest';
import { loadManifest } from './manifestLoader';
import { downloadBytes, downloadModelFiles, type RangeFetch } from './modelDownload';
import { importModelFolder, readImportFolder } from './modelImport';
import { browserLocks, withModelLock, type LockManagerLike } from '../storage/modelLocks';
import type { ModelStore, StoredModel } from '../storage/modelStore';
import type { TransferProgress } from './transferProgress';
import type {
  BuildFromHubParams,
  DownloadModelParams,
  ImportModelParams,
  ModelTransferEvent,
  StorageReport,
  StoredModelInfo,
} from '../../core/protocol';

/** A ModelTransferEvent before the worker tags it with its request id. */
export type ModelTransferUpdate = Omit<ModelTransferEvent, 'type' | 'requestId'>;

export interface ModelLibraryOptions {
  /** Opens the store once and hands out the same one (see lazyModelStore). */
  openStore: () => Promise<ModelStore>;
  fetch?: RangeFetch;
  /** Cross-tab locks; default `navigator.locks`, null for none. */
  locks?: LockManagerLike | null;
  now?: () => number;
  /** onnxruntime-web (WASM) for the probe of a hub build; the engine's, so the runtime is started once. */
  importOrt?: () => Promise<OrtModule>;
}

interface RunningTransfer {
  controller: AbortController;
  done: Promise<unknown>;
}

export function storedModelInfo(model: StoredModel): StoredModelInfo {
  return { ...model, dtypes: model.manifest.variants.map((v) => v.dtype) };
}

const byId =
  <T>(id: (item: T) => string) =>
  (a: T, b: T) =>
    id(a).localeCompare(id(b));

export class ModelLibrary {
  private readonly locks: LockManagerLike | null;
  /** Downloads and imports under way in this worker, by model id. */
  private readonly transfers = new Map<string, RunningTransfer>();

  constructor(private readonly options: ModelLibraryOptions) {
    this.locks = options.locks === undefined ? browserLocks() : options.locks;
  }

  /** What storage holds: complete models, downloads that stopped before the end, and the browser's quota. */
  async report(): Promise<StorageReport> {
    const store = await this.options.openStore();
    const [models, incomplete, space] = await Promise.all([
      store.list(),
      store.listIncomplete(),
      store.estimate().catch(() => null),
    ]);
    return {
      kind: store.kind,
      models: models.map(storedModelInfo).sort(byId((m) => m.id)),
      incomplete: incomplete.sort(byId((m) => m.modelId)),
      quota: space?.quota ?? null,
      usage: space?.usage ?? null,
    };
  }

  /**
   * Downloads (or resumes) the variants `dtypes` of the model at `manifestUrl` into storage. Progress: one 'manifest'
   * update before the manifest is read (modelId null) and one after (with the total), then per file 'verify' for
   * files already stored and 'download'/'verify' for the others.
   * @throws ModelBusyError when the model is already being downloaded or imported (here or in another tab);
   *   CancelledError when `signal` aborts (partials are kept, the next download resumes); see downloadModelFiles.
   */
  async download(
    params: DownloadModelParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal?: AbortSignal,
  ): Promise<StoredModelInfo> {
    onProgress(manifestStage(null, 0));
    const loaded = await loadManifest(params.manifestUrl, this.fetchFunction());
    const { manifest } = loaded;
    onProgress(manifestStage(manifest.id, downloadBytes(loaded, params.dtypes)));
    const store = await this.options.openStore();
    return this.transfer(manifest, signal, (transferSignal) =>
      downloadModelFiles(loaded, store, {
        dtypes: params.dtypes,
        fetch: this.fetchFunction(),
        signal: transferSignal,
        onProgress: (progress) => onProgress(fileStage(manifest.id, progress)),
        ...(this.options.now ? { now: this.options.now } : {}),
      }),
    );
  }

  /**
   * Checks a converted model folder and stores it, all or nothing (see modelImport.ts). Progress: 'manifest' (modelId
   * null, then the model's id and total), then per file 'verify' (hashing) and 'store' (writing).
   * @throws ModelBusyError as download does; ManifestError/ModelFileError naming what is wrong with the folder.
   */
  async import(
    params: ImportModelParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal?: AbortSignal,
  ): Promise<StoredModelInfo> {
    onProgress(manifestStage(null, 0));
    const folder = await readImportFolder(params.files);
    const { manifest } = folder;
    onProgress(
      manifestStage(
        manifest.id,
        folder.files.reduce((sum, { file }) => sum + file.bytes, 0),
      ),
    );
    const store = await this.options.openStore();
    return this.transfer(manifest, signal, (transferSignal) =>
      importModelFolder(folder, store, {
        signal: transferSignal,
        onProgress: (progress) => onProgress(fileStage(manifest.id, progress)),
        ...(this.options.now ? { now: this.options.now } : {}),
      }),
    );
  }

  /**
   * Builds a model from the official weights on the hub (see hub/buildFromHub.ts), under the same one-writer rule
   * as downloads. Progress: 'manifest' while the recipe is read, then 'download' (bytes), 'convert' and 'quantize'
   * (tensors), 'store', 'verify'.
   */
  async buildFromHub(
    params: BuildFromHubParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal?: AbortSignal,
  ): Promise<StoredModelInfo> {
    onProgress(manifestStage(null, 0));
    const recipe = await fetchRecipe(params.recipeUrl, this.fetchFunction());
    const { id, name } = recipe.manifest;
    onProgress(manifestStage(id, 0));
    const store = await this.options.openStore();
    const importOrt =
      this.options.importOrt ?? (async () => (await import('onnxruntime-web/wasm')) as OrtModule);
    return this.transfer({ id, name }, signal, (transferSignal) =>
      buildFromHub(
        params,
        {
          store,
          fetch: this.fetchFunction(),
          importOrt,
          ...(this.options.now ? { now: this.options.now } : {}),
        },
        (progress) => onProgress({ modelId: id, ...progress }),
        transferSignal,
        recipe,
      ),
    );
  }

  /**
   * Removes a stored model, and any partial download of it. A download or import of it running in this worker is
   * cancelled first. Deleting the model the engine has loaded is allowed: its sessions already hold their bytes and
   * keep working until another model is loaded; loading it again then fails with "not in this browser's model
   * storage".
   * @throws ModelBusyError when another tab is downloading or importing it.
   */
  async delete(modelId: string): Promise<void> {
    const running = this.transfers.get(modelId);
    if (running) {
      running.controller.abort();
      await running.done.catch(() => undefined);
    }
    const store = await this.options.openStore();
    const name = (await store.list()).find((model) => model.id === modelId)?.name ?? modelId;
    await withModelLock(this.locks, modelId, name, () => store.delete(modelId));
  }

  /** Deletes every stored model and every partial download (stopping transfers); returns how many models. */
  async deleteAll(): Promise<number> {
    const store = await this.options.openStore();
    const ids = new Set([
      ...(await store.list()).map((model) => model.id),
      ...(await store.listIncomplete()).map((model) => model.modelId),
      ...this.transfers.keys(),
    ]);
    for (const id of ids) await this.delete(id);
    return ids.size;
  }

  /** Runs one download or import of `manifest`'s model: one at a time per model, under the cross-tab lock. */
  private async transfer(
    manifest: Pick<ModelManifest, 'id' | 'name'>,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<StoredModel>,
  ): Promise<StoredModelInfo> {
    if (signal?.aborted) throw new CancelledError('The transfer was cancelled before it started.');
    if (this.transfers.has(manifest.id)) {
      throw new ModelBusyError(
        `${manifest.name} is already being downloaded or imported. Wait until it finishes.`,
      );
    }
    // A controller of our own, so that delete() can stop the transfer as well as the page's cancel.
    const controller = new AbortController();
    const forwardAbort = () => controller.abort();
    signal?.addEventListener('abort', forwardAbort);
    const done = withModelLock(this.locks, manifest.id, manifest.name, () => run(controller.signal));
    this.transfers.set(manifest.id, { controller, done });
    try {
      return storedModelInfo(await done);
    } finally {
      this.transfers.delete(manifest.id);
      signal?.removeEventListener('abort', forwardAbort);
    }
  }

  private fetchFunction(): RangeFetch {
    return this.options.fetch ?? ((url, init) => fetch(url, init));
  }
}

function manifestStage(modelId: string | null, total: number): ModelTransferUpdate {
  return { modelId, stage: 'manifest', file: null, loaded: 0, total, bytesPerSecond: 0, secondsLeft: null };
}

function fileStage(modelId: string, progress: TransferProgress): ModelTransferUpdate {
  return { modelId, ...progress };
}
