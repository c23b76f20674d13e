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
  type OrtModule,
} from './backend';
import { decodeImageFile, type DecodedImage } from '../image/decode';
import {
  FailSafeEmbeddingCache,
  labelCacheKey,
  type CachedLabel,
  type EmbeddingCache,
} from '../storage/embeddingCache';
import {
  BackendError,
  CancelledError,
  ManifestError,
  ModelFileError,
  NotLoadedError,
  describeError,
} from '../../core/errors';
import { embedImageFiles, type ImageSink } from '../image/imageBatches';
import { ImageEmbedder } from '../image/imageEmbedder';
import type { Backend, ManifestFile, ModelManifest, TextConfig } from '../../core/manifest';
import type { BackendCandidate } from './backend';
import type { FetchLike } from '../library/manifestLoader';
import { servedModelFiles, storedModelFiles, type ModelFiles } from '../library/modelFiles';
import type { ModelStore } from '../storage/modelStore';
import type { PreprocessOptions } from '../image/preprocess';
import { SerialQueue } from './serialQueue';
import { StageTimings } from './stageTimings';
import {
  type OpenImageTowerOptions,
  openFirstWorkingImageTower,
  openTextTower,
  runImageTower,
  runTextTower,
  type ImageTower,
  type TextTower,
} from './sessions';
import { normalizeTemplates } from '../../core/templates';
import { TextEmbedder, type EmbedLabelsRun, type PromptTokenizer } from '../text/textEmbedder';
import { ClipTokenizer } from '../text/tokenizer';
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
} from '../../core/protocol';

export type { ImageSink } from '../image/imageBatches';

export type LoadEvent = LoadProgressEvent | BackendChangedEvent;

/**
 * Names the weights behind an image embedding: model id, dtype, and the start of the image graph's sha256, so a
 * model re-exported under the same id never reuses embeddings of the old weights.
 */
function imageModelKey(state: LoadedState): string {
  const { manifest, candidate } = state;
  return `${manifest.id}/${candidate.variant.dtype}/${candidate.variant.imageModel.sha256.slice(0, 16)}`;
}

/** The same for the text tower: label embeddings are remembered under it. */
function textModelKey(state: LoadedState): string {
  const { manifest, candidate } = state;
  return `${manifest.id}/${candidate.variant.dtype}/${candidate.variant.textModel.sha256.slice(0, 16)}`;
}

export interface ZeroShotEngineOptions {
  fetch?: FetchLike;
  importOrt?: OrtImporter;
  detectCapabilities?: () => Promise<BackendCapabilities>;
  /** Asks WebGPU for a device before onnxruntime-web does, so its failure reads in words (see checkWebGpuDevice). */
  checkWebGpuDevice?: () => Promise<void>;
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
  files: ModelFiles;
  candidate: BackendCandidate;
  image: ImageTower;
  /** Opened on first need (labels not remembered) or when the worker is idle; null until then or after a failure. */
  text: Promise<TextTower> | null;
  textProbeCosine: number | null;
  /** Set when a newer load or dispose replaced this model: nothing may open a session for it any more. */
  released: boolean;
  /** Built with the tokenizer when labels first need computing (reading and parsing tokenizer.json costs ~0.15 s). */
  textEmbedder: Promise<TextEmbedder> | null;
  imageEmbedder: ImageEmbedder;
  /** The switch to WASM after the GPU failed, while it is under way (image and text runs wait for it). */
  fallingBack: Promise<void> | null;
}

/**
 * A GPU failure in a few words: ORT's own message for a lost device is a C++ source path and a buffer-mapping
 * status, which means nothing to a person.
 */
export function summarizeGpuFailure(error: unknown): string {
  const message = describeError(error);
  if (/device (was )?lost|destroyed|mapAsync|MapAsyncStatus|GPUDevice/i.test(message))
    return 'the GPU device was lost';
  const firstLine = message.split('\n')[0]!.trim();
  return firstLine.length > 120 ? `${firstLine.slice(0, 117)}…` : firstLine;
}

/** How long the worker waits after a load before it opens the text tower in the background, if it is idle then. */
const TEXT_TOWER_IDLE_MS = 1000;

export class ZeroShotEngine {
  private state: LoadedState | null = null;
  private readonly cache: FailSafeEmbeddingCache | null;
  private loadGeneration = 0;
  private capabilities: Promise<BackendCapabilities> | null = null;
  private ortLoader: OrtLoader | null = null;
  private eventSink: (event: LoadEvent) => void = () => undefined;
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
    const timings = new StageTimings(this.now);
    const generation = ++this.loadGeneration;
    await this.releaseCurrent();
    emit({ type: 'loadProgress', stage: 'manifest', loaded: 0, total: 1 });
    const files = await timings.time('manifest', () => this.modelFiles(params.source));
    const { manifest } = files;
    emit({ type: 'loadProgress', stage: 'manifest', loaded: 1, total: 1 });
    const capabilities = await this.detectCapabilitiesOnce();
    const { candidates, skipped } = candidateList(manifest.variants, capabilities, params.backend);
    if (candidates.length === 0) {
      throw new BackendError(
        `No backend can run ${manifest.name} here. ${skipped.join(' ')} Choose 'auto' or 'wasm'.`,
      );
    }
    // The runtime starts (WebAssembly compile, threads) while the files are read and checked.
    const ortLoader = this.ortLoaderFor(capabilities);
    void timings.time('runtimeStart', () => ortLoader.start(candidates[0]!.backend)).catch(() => undefined);
    // Stage 'download' also covers reading a stored model: the bytes are checked the same way.
    const download = (file: ManifestFile) =>
      files.readWhileChecking(file, (loaded, total) =>
        emit({ type: 'loadProgress', stage: 'download', file: file.path, loaded, total }),
      );
    const opened = await openFirstWorkingImageTower({
      candidates,
      manifest,
      ortLoader,
      queue: this.queue,
      modelBytes: download,
      onStage: (stage, index, count) => emit({ type: 'loadProgress', stage, loaded: index, total: count }),
      timings,
      ...this.probePassStore(),
    });
    const { tower, candidate } = opened;
    if (generation !== this.loadGeneration) {
      await this.queue.run(() => tower.image.release());
      throw new CancelledError('A newer model load replaced this one.');
    }
    const fallbackNotes = [...skipped, ...opened.fallbackNotes, ...singleThreadNote(tower.backend)];
    if (opened.fallbackNotes.length > 0) {
      emit({
        type: 'backendChanged',
        backend: tower.backend,
        dtype: tower.dtype,
        reason: opened.fallbackNotes.join(' '),
      });
    }
    const state = this.buildState(manifest, files, candidate, tower);
    this.state = state;
    this.openTextTowerWhenIdle(state);
    return {
      manifest,
      backend: tower.backend,
      dtype: tower.dtype,
      probeCosine: { image: opened.probeCosine, text: null },
      probeRemembered: opened.probeRemembered,
      fallbackNotes,
      loadMs: this.now() - started,
      loadStages: timings.toRecord(),
      threads: tower.ort.env.wasm.numThreads ?? capabilities.wasmThreads,
    };
  }

  /**
   * Label embeddings for the loaded model (see TextEmbedder). `run` hears the progress of the prompts the text
   * tower must compute (remembered labels are not counted) and can stop the request between batches with a
   * CancelledError; the prompts done before that stay in memory, so asking again resumes.
   */
  async embedLabels(params: EmbedLabelsParams, run: EmbedLabelsRun = {}): Promise<EmbedLabelsResult> {
    const state = this.requireState();
    const started = this.now();
    const templates = normalizeTemplates(params.templates);
    const dim = state.manifest.embedDim;
    const keys = params.labels.map((label) => labelCacheKey(textModelKey(state), templates, label));
    const found: (CachedLabel | null)[] = this.cache
      ? await this.cache.getLabels(keys)
      : keys.map(() => null);
    // A stored embedding of another size (a damaged record) is computed again.
    const missing = params.labels.flatMap((label, i) => (found[i]?.embedding.length === dim ? [] : [label]));
    const computed = new Map<string, CachedLabel>();
    let work = { promptsRun: 0, towerMs: 0 };
    if (missing.length > 0) {
      const result = await (await this.textEmbedderOf(state)).embedLabels(missing, templates, run);
      work = { promptsRun: result.promptsRun, towerMs: result.towerMs };
      missing.forEach((label, i) =>
        computed.set(label, {
          embedding: result.embeddings.slice(i * dim, (i + 1) * dim),
          truncated: result.truncated[i] ?? false,
        }),
      );
      await this.cache?.putLabels(
        params.labels.flatMap((label, i) => {
          const value = computed.get(label);
          return value ? [[keys[i]!, value] as const] : [];
        }),
      );
    }
    const embeddings = new Float32Array(params.labels.length * dim);
    const truncated = params.labels.map((label, i) => {
      const value = computed.get(label) ?? found[i]!;
      embeddings.set(value.embedding, i * dim);
      return value.truncated;
    });
    return {
      embeddings,
      dim,
      truncated,
      ms: this.now() - started,
      fromCache: params.labels.length - missing.length,
      textProbeCosine: state.textProbeCosine,
      ...work,
    };
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
    const { backend } = state.image;
    return embedImageFiles(params, sink, {
      embedder: state.imageEmbedder,
      decode: this.options.decodeImage ?? decodeImageFile,
      batchSize: this.options.imageBatchSize?.[backend] ?? 4,
      // A model load replaces the state: images of the old model stop there.
      isStopped: () => signal?.aborted === true || this.state !== state,
      now: this.now,
      ...(this.cache ? { cache: { store: this.cache, modelKey: () => imageModelKey(state) } } : {}),
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
    files: ModelFiles,
    candidate: BackendCandidate,
    image: ImageTower,
  ): LoadedState {
    const size = manifest.image.size;
    const stateFields: LoadedState = {
      manifest,
      files,
      candidate,
      image,
      text: null,
      textProbeCosine: null,
      released: false,
      textEmbedder: null,
      fallingBack: null,
      imageEmbedder: new ImageEmbedder(
        manifest.image,
        manifest.embedDim,
        (pixels, batch) =>
          this.runOnWorkingBackend(state, () =>
            this.queue.run(() => runImageTower(state.image, pixels, batch, size)),
          ),
        this.options.preprocess,
      ),
    };
    const state: LoadedState = stateFields;
    return state;
  }

  /**
   * Runs `task` (one tower run of `state`); if it fails on WebGPU — most often the GPU device was lost: a driver
   * reset, the GPU process crashed, the laptop switched GPUs — the model moves to WASM once and `task` runs again
   * there, so the batch in progress finishes. Failures on WASM are the caller's.
   */
  private async runOnWorkingBackend<T>(state: LoadedState, task: () => Promise<T>): Promise<T> {
    if (state.fallingBack) await state.fallingBack;
    const backend = state.image.backend;
    try {
      return await task();
    } catch (error) {
      if (backend !== 'webgpu' || state.released) throw error;
      await this.fallBackToWasm(state, error);
      return task();
    }
  }

  /** Moves `state` from WebGPU to the first WASM variant that passes its probe, and tells the page why. */
  private fallBackToWasm(state: LoadedState, cause: unknown): Promise<void> {
    if (state.image.backend !== 'webgpu') return state.fallingBack ?? Promise.resolve();
    state.fallingBack ??= (async () => {
      const capabilities = await this.detectCapabilitiesOnce();
      const { candidates } = candidateList(state.manifest.variants, capabilities, 'wasm');
      const opened = await openFirstWorkingImageTower({
        candidates,
        manifest: state.manifest,
        ortLoader: this.ortLoaderFor(capabilities),
        queue: this.queue,
        modelBytes: (file) => state.files.readWhileChecking(file),
        ...this.probePassStore(),
      });
      const lost = { image: state.image.image, text: state.text };
      state.image = opened.tower;
      state.candidate = opened.candidate;
      state.text = null;
      state.textProbeCosine = null;
      state.textEmbedder = null;
      // The lost device's sessions are released as far as they can be; their GPU memory is gone anyway.
      void this.queue.run(() => lost.image.release()).catch(() => undefined);
      void lost.text?.then((text) => this.queue.run(() => text.text.release())).catch(() => undefined);
      this.emitEvent({
        type: 'backendChanged',
        backend: opened.tower.backend,
        dtype: opened.tower.dtype,
        reason:
          `WebGPU stopped working (${summarizeGpuFailure(cause)}), so EVA Lens moved to WASM ${opened.tower.dtype} ` +
          `and finished the images on the processor.`,
      });
    })().finally(() => {
      state.fallingBack = null;
    });
    return state.fallingBack;
  }

  /** The label embedder of `state`: its tokenizer is read and parsed on first use (again after a failure). */
  private textEmbedderOf(state: LoadedState): Promise<TextEmbedder> {
    const { manifest } = state;
    state.textEmbedder ??= (async () => {
      const tokenizer = this.createTokenizer(await state.files.read(manifest.text.tokenizer), manifest);
      return new TextEmbedder(
        tokenizer,
        (ids, batch, seqLen) =>
          this.runOnWorkingBackend(state, async () => {
            const text = await this.textTowerOf(state);
            return this.queue.run(() => runTextTower(text, ids, batch, seqLen));
          }),
        manifest.embedDim,
        `${manifest.id}/${state.image.dtype}`,
      );
    })().catch((error: unknown) => {
      state.textEmbedder = null;
      throw error;
    });
    return state.textEmbedder;
  }

  /** The text tower of `state`, opened once (again after a failure, so a passing problem is not permanent). */
  private textTowerOf(state: LoadedState): Promise<TextTower> {
    if (state.released) return Promise.reject(new CancelledError('A newer model load replaced this one.'));
    state.text ??= (async () => {
      const textModelBytes = await state.files.read(state.candidate.variant.textModel);
      const tower = await openTextTower({
        tower: state.image,
        candidate: state.candidate,
        manifest: state.manifest,
        queue: this.queue,
        textModelBytes,
      });
      state.textProbeCosine = tower.probeCosine;
      return tower;
    })().catch((error: unknown) => {
      state.text = null;
      throw error;
    });
    return state.text;
  }

  /**
   * Opens the text tower once nothing else is queued, so a person who types a new label does not wait for it, and
   * the first images of a visit are not held up by it.
   */
  private openTextTowerWhenIdle(state: LoadedState): void {
    const check = () => {
      if (state.released || state.text) return;
      if (!this.queue.isIdle) {
        setTimeout(check, TEXT_TOWER_IDLE_MS / 4);
        return;
      }
      // A failure here is reported when labels need the tower.
      this.textTowerOf(state).catch(() => undefined);
      this.textEmbedderOf(state).catch(() => undefined);
    };
    setTimeout(check, TEXT_TOWER_IDLE_MS);
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

  private createTokenizer(bytes: Uint8Array, manifest: ModelManifest): PromptTokenizer {
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

  /** The remembered probe passes, when the engine has a cache to keep them in. */
  private probePassStore(): Pick<OpenImageTowerOptions, 'probePasses'> {
    const cache = this.cache;
    if (!cache) return {};
    return {
      probePasses: {
        get: (key) => cache.getProbePass(key),
        put: (key, cosine) => cache.putProbePass(key, cosine),
      },
    };
  }

  /** Receives events that happen outside a load (a backend change when the GPU fails mid-batch). */
  setEventSink(sink: (event: LoadEvent) => void): void {
    this.eventSink = sink;
  }

  private emitEvent(event: LoadEvent): void {
    this.eventSink(event);
  }

  /**
   * Fault injection for the e2e suite: destroys the WebGPU device the model runs on, as a driver reset would. Does
   * nothing on WASM. @returns whether a device was destroyed.
   */
  async simulateGpuLoss(): Promise<boolean> {
    const state = this.state;
    if (!state || state.image.backend !== 'webgpu') return false;
    const device = await state.image.ort.env.webgpu.device;
    device.destroy();
    return true;
  }

  /** The engine's WASM runtime (configured as for its own sessions), for work beside it such as a build's probe. */
  async wasmRuntime(): Promise<OrtModule> {
    return this.ortLoaderFor(await this.detectCapabilitiesOnce()).load('wasm');
  }

  /** One loader per engine: a second model load finds the runtime already started. */
  private ortLoaderFor(capabilities: BackendCapabilities): OrtLoader {
    this.ortLoader ??= new OrtLoader(this.options.importOrt ?? importBrowserOrt, {
      wasmPaths: this.options.wasmPaths,
      numThreads: capabilities.wasmThreads,
      checkWebGpuDevice: this.options.checkWebGpuDevice,
    });
    return this.ortLoader;
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
    if (!current) return;
    current.released = true;
    await this.queue.run(() => current.image.image.release());
    const text = await current.text?.catch(() => null);
    if (text) await this.queue.run(() => text.text.release());
  }
}

/**
 * WebKit (Safari's engine) is cross-origin isolated yet has no SharedArrayBuffer, so onnxruntime-web runs WASM on one
 * thread; the status bar's "not cross-origin isolated" warning does not cover that case, so the load says it here.
 */
function singleThreadNote(backend: string): string[] {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return backend === 'wasm' && isolated && typeof SharedArrayBuffer === 'undefined'
    ? ['WASM runs on one thread: this browser offers no SharedArrayBuffer.']
    : [];
}
