/**
 * The inference engine behind the worker: loads a model from its manifest onto the best backend that passes the
 * probe, embeds labels (with prompt templates) and images. No DOM beyond what decode.ts uses; every browser
 * dependency can be replaced, so the engine runs in Node tests on onnxruntime-web's WASM backend.
 */
import {
  OrtLoader,
  candidateList,
  detectCapabilities,
  importBrowserOrt,
  type BackendCapabilities,
  type OrtImporter,
} from './backend';
import { decodeImageFile, type DecodedImage } from './decode';
import { FailSafeEmbeddingCache, type EmbeddingCache } from './embeddingCache';
import { BackendError, CancelledError, ManifestError, ModelFileError, NotLoadedError } from './errors';
import { embedImageFiles, type ImageSink } from './imageBatches';
import { ImageEmbedder } from './imageEmbedder';
import type { Backend, ManifestFile, ModelManifest, TextConfig } from './manifest';
import type { FetchLike } from './manifestLoader';
import { servedModelFiles, storedModelFiles, type ModelFiles } from './modelFiles';
import type { ModelStore } from './modelStore';
import type { PreprocessOptions } from './preprocess';
import { SerialQueue } from './serialQueue';
import {
  openFirstWorkingCandidate,
  releaseSessions,
  runImageTower,
  runTextTower,
  type ModelSessions,
} from './sessions';
import { normalizeTemplates } from './templates';
import { TextEmbedder, type PromptTokenizer } from './textEmbedder';
import { ClipTokenizer } from './tokenizer';
import type {
  BackendChangedEvent,
  EmbedImagesParams,
  EmbedImagesResult,
  EmbedLabelsParams,
  EmbedLabelsResult,
  EmbeddingCacheInfo,
  LoadModelParams,
  LoadProgressEvent,
  LoadedModel,
  ModelSource,
} from '../worker/protocol';

export type { ImageSink } from './imageBatches';

export type LoadEvent = LoadProgressEvent | BackendChangedEvent;

/**
 * Names the weights behind an image embedding: model id, dtype, and the start of the image graph's sha256, so a
 * model re-exported under the same id never reuses embeddings of the old weights.
 */
function imageModelKey(state: LoadedState): string {
  const { manifest, sessions } = state;
  const variant = manifest.variants.find((v) => v.dtype === sessions.dtype);
  return `${manifest.id}/${sessions.dtype}/${variant?.imageModel.sha256.slice(0, 16) ?? 'unknown'}`;
}

export interface ZeroShotEngineOptions {
  fetch?: FetchLike;
  importOrt?: OrtImporter;
  detectCapabilities?: () => Promise<BackendCapabilities>;
  decodeImage?: (file: Blob, name: string, thumbnailSize: number) => Promise<DecodedImage>;
  createTokenizer?: (tokenizerJson: object, config: TextConfig) => PromptTokenizer;
  /** Folder of onnxruntime-web's runtime files, `${BASE_URL}ort/`; undefined keeps ORT's own default. */
  wasmPaths?: string;
  /** Base for a relative manifest URL (default: the worker's location). */
  baseUrl?: string;
  /** Model storage, for `{ kind: 'stored' }` sources (the worker shares one store with its model library). */
  openStore?: () => Promise<ModelStore>;
  /**
   * Images per image-tower run (default 4 on both backends: B/16 int8 on 2-core WASM ran 2.68 images/s at batch 1,
   * 3.34 at 4 and 2.73 at 8; see BENCHMARKS.md).
   */
  imageBatchSize?: Partial<Record<Backend, number>>;
  preprocess?: PreprocessOptions;
  /** Image embeddings kept across visits (IndexedDB in the worker); none: every image is embedded. */
  embeddingCache?: EmbeddingCache;
  now?: () => number;
}

interface LoadedState {
  manifest: ModelManifest;
  sessions: ModelSessions;
  textEmbedder: TextEmbedder;
  imageEmbedder: ImageEmbedder;
}

export class ZeroShotEngine {
  private state: LoadedState | null = null;
  private readonly cache: FailSafeEmbeddingCache | null;
  private loadGeneration = 0;
  private capabilities: Promise<BackendCapabilities> | null = null;
  private readonly queue = new SerialQueue();
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;

  constructor(private readonly options: ZeroShotEngineOptions = {}) {
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
    this.now = options.now ?? (() => performance.now());
    this.cache = options.embeddingCache ? new FailSafeEmbeddingCache(options.embeddingCache) : null;
  }

  /** Loads a model, replacing the current one; `emit` receives progress and backend fallbacks. */
  async load(
    params: LoadModelParams,
    emit: (event: LoadEvent) => void = () => undefined,
  ): Promise<LoadedModel> {
    const started = this.now();
    const generation = ++this.loadGeneration;
    await this.releaseCurrent();
    emit({ type: 'loadProgress', stage: 'manifest', loaded: 0, total: 1 });
    const files = await this.modelFiles(params.source);
    const { manifest } = files;
    emit({ type: 'loadProgress', stage: 'manifest', loaded: 1, total: 1 });
    const capabilities = await this.detectCapabilitiesOnce();
    const { candidates, skipped } = candidateList(manifest.variants, capabilities, params.backend);
    if (candidates.length === 0) {
      throw new BackendError(
        `No backend can run ${manifest.name} here. ${skipped.join(' ')} Choose 'auto' or 'wasm'.`,
      );
    }
    // Stage 'download' also covers reading a stored model: the bytes are checked the same way.
    const download = (file: ManifestFile) =>
      files.read(file, (loaded, total) =>
        emit({ type: 'loadProgress', stage: 'download', file: file.path, loaded, total }),
      );
    const tokenizer = await this.createTokenizer(await download(manifest.text.tokenizer), manifest);
    const downloads = new Map<string, Promise<Uint8Array>>();
    const opened = await openFirstWorkingCandidate({
      candidates,
      manifest,
      ortLoader: new OrtLoader(this.options.importOrt ?? importBrowserOrt, {
        wasmPaths: this.options.wasmPaths,
        numThreads: capabilities.wasmThreads,
      }),
      queue: this.queue,
      modelBytes: (file) => {
        if (!downloads.has(file.path)) downloads.set(file.path, download(file));
        return downloads.get(file.path)!;
      },
      onStage: (stage, index, count) => emit({ type: 'loadProgress', stage, loaded: index, total: count }),
    });
    downloads.clear();
    const { sessions } = opened;
    if (generation !== this.loadGeneration) {
      await this.queue.run(() => releaseSessions(sessions));
      throw new CancelledError('A newer model load replaced this one.');
    }
    const fallbackNotes = [...skipped, ...opened.fallbackNotes];
    if (opened.fallbackNotes.length > 0) {
      emit({
        type: 'backendChanged',
        backend: sessions.backend,
        dtype: sessions.dtype,
        reason: opened.fallbackNotes.join(' '),
      });
    }
    this.state = this.buildState(manifest, sessions, tokenizer);
    return {
      manifest,
      backend: sessions.backend,
      dtype: sessions.dtype,
      probeCosine: opened.probeCosine,
      fallbackNotes,
      loadMs: this.now() - started,
      threads: sessions.ort.env.wasm.numThreads ?? capabilities.wasmThreads,
    };
  }

  /** Label embeddings for the loaded model (see TextEmbedder). */
  async embedLabels(params: EmbedLabelsParams): Promise<EmbedLabelsResult> {
    const state = this.requireState();
    const started = this.now();
    const { embeddings, truncated } = await state.textEmbedder.embedLabels(
      params.labels,
      normalizeTemplates(params.templates),
    );
    return { embeddings, dim: state.manifest.embedDim, truncated, ms: this.now() - started };
  }

  /**
   * Decodes, preprocesses and embeds each image, reporting each one to `sink` as soon as it is done (see
   * imageBatches.ts). A failing image is reported and skipped; `signal` is checked between images.
   */
  async embedImages(
    params: EmbedImagesParams,
    sink: ImageSink,
    signal?: AbortSignal,
  ): Promise<EmbedImagesResult> {
    const state = this.requireState();
    const { backend } = state.sessions;
    return embedImageFiles(params, sink, {
      embedder: state.imageEmbedder,
      decode: this.options.decodeImage ?? decodeImageFile,
      batchSize: this.options.imageBatchSize?.[backend] ?? 4,
      // A model load replaces the state: images of the old model stop there.
      isStopped: () => signal?.aborted === true || this.state !== state,
      now: this.now,
      ...(this.cache ? { cache: { store: this.cache, modelKey: imageModelKey(state) } } : {}),
    });
  }

  async embeddingCacheInfo(): Promise<EmbeddingCacheInfo> {
    if (!this.cache) return { entries: 0, disabledReason: 'This engine has no embedding cache.' };
    const entries = await this.cache.count();
    return { entries, disabledReason: this.cache.disabledReason };
  }

  async clearEmbeddingCache(): Promise<{ removed: number }> {
    return { removed: this.cache ? await this.cache.clear() : 0 };
  }

  /** Releases the sessions; the engine can load again afterwards. */
  async dispose(): Promise<void> {
    this.loadGeneration++;
    await this.releaseCurrent();
  }

  private buildState(
    manifest: ModelManifest,
    sessions: ModelSessions,
    tokenizer: PromptTokenizer,
  ): LoadedState {
    const dim = manifest.embedDim;
    const size = manifest.image.size;
    return {
      manifest,
      sessions,
      textEmbedder: new TextEmbedder(
        tokenizer,
        (ids, batch, seqLen) => this.queue.run(() => runTextTower(sessions, ids, batch, seqLen)),
        dim,
        `${manifest.id}/${sessions.dtype}`,
      ),
      imageEmbedder: new ImageEmbedder(
        manifest.image,
        dim,
        (pixels, batch) => this.queue.run(() => runImageTower(sessions, pixels, batch, size)),
        this.options.preprocess,
      ),
    };
  }

  private async modelFiles(source: ModelSource): Promise<ModelFiles> {
    if (source.kind === 'url') {
      const base = this.options.baseUrl ?? globalThis.location?.href;
      return servedModelFiles(new URL(source.manifestUrl, base).href, this.fetchFn);
    }
    if (!this.options.openStore) {
      throw new ManifestError(
        `The model ${source.modelId} is stored in this browser, but this engine has no model storage.`,
      );
    }
    return storedModelFiles(await this.options.openStore(), source.modelId);
  }

  private async createTokenizer(bytes: Uint8Array, manifest: ModelManifest): Promise<PromptTokenizer> {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new ModelFileError(`${manifest.text.tokenizer.path} is not valid JSON.`);
    }
    if (typeof json !== 'object' || json === null)
      throw new ModelFileError(`${manifest.text.tokenizer.path} is not a tokenizer.`);
    const create =
      this.options.createTokenizer ?? ((tokenizerJson, config) => new ClipTokenizer(tokenizerJson, config));
    return create(json, manifest.text);
  }

  private detectCapabilitiesOnce(): Promise<BackendCapabilities> {
    this.capabilities ??= (this.options.detectCapabilities ?? (() => detectCapabilities()))();
    return this.capabilities;
  }

  private requireState(): LoadedState {
    if (!this.state) throw new NotLoadedError();
    return this.state;
  }

  private async releaseCurrent(): Promise<void> {
    const current = this.state;
    this.state = null;
    if (current) await this.queue.run(() => releaseSessions(current.sessions));
  }
}
