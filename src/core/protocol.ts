/**
 * The messages between the page (EngineClient) and the inference worker (WorkerHandler). Requests carry an id;
 * every request gets exactly one reply (result or error) with that id; events carry no reply id.
 */
import type { Backend, Dtype, ModelManifest } from './manifest';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

/**
 * Where a model comes from: a served folder (the demo model next to the app; fetched through the HTTP cache and the
 * service worker), or model storage (a model downloaded or imported earlier; read from the browser's store, no
 * network). A stored model that is gone fails with a ManifestError ("…is not in this browser's model storage…").
 */
export type ModelSource = { kind: 'url'; manifestUrl: string } | { kind: 'stored'; modelId: string };

export interface LoadModelParams {
  source: ModelSource;
  backend: BackendPreference;
}

export interface LoadedModel {
  manifest: ModelManifest;
  backend: Backend;
  dtype: Dtype;
  /** Text is null at load: the text tower is opened when labels first need it (EmbedLabelsResult reports it). */
  probeCosine: { image: number; text: number | null };
  /** True when the image probe was not run because this WASM tower passed it on an earlier load here. */
  probeRemembered?: boolean;
  /** Human sentences on what was tried and why it was not used, e.g. "WebGPU int8 failed the probe (cosine 0.12)". */
  fallbackNotes: string[];
  loadMs: number;
  /** Milliseconds of each loading step (manifest, tokenizer, readImageModel, runtime, imageSession, probe…). */
  loadStages: Record<string, number>;
  threads: number;
}

export interface EmbedLabelsParams {
  labels: string[];
  templates: string[];
}

export interface EmbedLabelsResult {
  /** [labels.length × dim], each row the L2-normalised mean of the L2-normalised template embeddings. */
  embeddings: Float32Array;
  dim: number;
  /** Per label: true when a prompt was longer than the context and cut as CLIP does. */
  truncated: boolean[];
  ms: number;
  /** Labels whose embedding was remembered from an earlier run (no text tower needed). */
  fromCache?: number;
  /** The text tower's probe cosine once it has been opened; null while it has not been needed. */
  textProbeCosine?: number | null;
  /**
   * Prompts timed through the text tower and their milliseconds (the first batch, which may include opening the
   * tower, left out): the measured per-prompt time that presets quote. 0 when nothing was timed.
   */
  promptsRun?: number;
  towerMs?: number;
}

/**
 * Progress of embedLabels: prompts (label × template) run through the text tower so far, of the ones it needs
 * (labels remembered by the embedding cache are not counted); sent before the first batch and after each.
 */
export interface LabelProgressEvent {
  type: 'labelProgress';
  requestId: number;
  done: number;
  total: number;
}

export interface EmbedImagesParams {
  images: { imageId: string; file: Blob; name: string }[];
  thumbnailSize: number;
}

export interface EmbedImagesResult {
  /** Images reported with an embedding (computed or from the cache). */
  embedded: number;
  /** Of those, the ones read from the embedding cache (not decoded, not run). */
  fromCache?: number;
  failed: number;
  cancelled: boolean;
  ms: number;
}

export interface ImageEmbeddedEvent {
  type: 'imageEmbedded';
  requestId: number;
  imageId: string;
  embedding: Float32Array; // L2-normalised, length dim
  width: number; // decoded size (after EXIF orientation)
  height: number;
  thumbnail: Blob | null; // small JPEG/WebP made in the worker
  ms: number; // decode + preprocess + inference for this image (a cache hit: hashing + lookup)
  /** True when the embedding came from the embedding cache (same file bytes, same model weights). */
  fromCache?: boolean;
}

export interface ImageFailedEvent {
  type: 'imageFailed';
  requestId: number;
  imageId: string;
  message: string;
}

export interface LoadProgressEvent {
  type: 'loadProgress';
  /** 'download' also covers reading a stored model's files (they are checked the same way). */
  stage: 'manifest' | 'download' | 'session' | 'probe';
  file?: string;
  loaded: number;
  total: number;
}

export interface BackendChangedEvent {
  type: 'backendChanged';
  backend: Backend;
  dtype: Dtype;
  reason: string;
}

/** A model as model storage lists it (complete: every file of its listed variants is stored and verified). */
export interface StoredModelInfo {
  id: string;
  name: string;
  /** Bytes of its stored files. */
  bytes: number;
  /** When it was stored, ms since the epoch. */
  storedAt: number;
  /** The variants whose files are stored. */
  dtypes: Dtype[];
  /** The stored manifest (only the stored variants). */
  manifest: ModelManifest;
}

/**
 * A download (or import) that stopped before the end (cancel, lost connection, reload): a model folder in storage
 * with files or partials but no manifest. Its partial files are kept, so the next downloadModel resumes. A complete
 * model with a partial of another variant is listed in `models` only.
 */
export interface IncompleteDownloadInfo {
  modelId: string;
  /** Bytes already stored for it (committed files and partials). */
  bytes: number;
}

export interface StorageReport {
  /** Which store holds models: 'OPFS', 'Cache Storage' (no OPFS here), or 'memory' (nothing survives a reload). */
  kind: string;
  models: StoredModelInfo[];
  incomplete: IncompleteDownloadInfo[];
  /** navigator.storage.estimate(), or null when the browser does not say. */
  quota: number | null;
  usage: number | null;
}

export interface DownloadModelParams {
  /** Absolute URL of the model's manifest.json on a model server (files are resolved against it). */
  manifestUrl: string;
  /** Variants to store; the tokenizer always comes along. */
  dtypes: Dtype[];
}

/** Build a model from the official weights on the model hub (issue #9); see src/engine/hub/buildFromHub.ts. */
export interface BuildFromHubParams {
  /** Absolute URL of the architecture's recipe.json, served with the app. */
  recipeUrl: string;
  /** The hub's base URL (https://huggingface.co, a mirror, or the tests' stand-in). */
  hubBaseUrl: string;
  /** The dtypes to build (int8 for WASM, q4 for WebGPU). */
  dtypes: Dtype[];
}

export interface ImportModelParams {
  /**
   * The files of a folder made by `npm run models -- convert`, each with its path relative to the folder that was
   * dropped or picked (e.g. 'eva02-clip-b-16/manifest.json'). The manifest.json nearest the root is the model; its
   * files are matched by path relative to it.
   */
  files: { path: string; file: Blob }[];
}

/**
 * Progress of downloadModel / importModel. Stages in order: 'manifest' twice (modelId null and total 0 before the
 * manifest is read, then the model's id and total); then per file — download: 'verify' for a file already stored,
 * 'download' then 'verify' for the others; import: 'verify' (hashing) then 'store' (writing).
 */
export interface ModelTransferEvent {
  type: 'modelTransfer';
  requestId: number;
  /** Known once the manifest is read. */
  modelId: string | null;
  /** A hub build adds 'convert' and 'quantize' (loaded/total count tensors) and 'verify' for its probe. */
  stage: 'manifest' | 'download' | 'verify' | 'store' | 'convert' | 'quantize';
  file: string | null;
  /** Bytes of the whole model done so far (already-stored and resumed bytes count) and the total. */
  loaded: number;
  total: number;
  /** Transfer rate over the last few seconds; 0 until bytes arrive (import: bytes checked and written per second). */
  bytesPerSecond: number;
  secondsLeft: number | null;
}

/** The events a running request hears about itself (each carries its `requestId`); other requests hear none. */
export interface RequestEventMap {
  embedLabels: LabelProgressEvent;
  embedImages: ImageEmbeddedEvent | ImageFailedEvent;
  downloadModel: ModelTransferEvent;
  importModel: ModelTransferEvent;
  buildModelFromHub: ModelTransferEvent;
}

/** Requests that run a while, report their progress as events and can be stopped with 'cancel'. */
export type RunningRequestType = keyof RequestEventMap;

/** The page's handle on a running request. */
export interface CancellableRequest<T> {
  done: Promise<T>;
  /** Asks the worker to stop; `done` then settles as the request's kind says (see CancelParams). */
  cancel(): void;
}

export type RequestEvent = RequestEventMap[RunningRequestType];

/** Events for every listener of the page, outside any one request: loading and backend changes. */
export type PageEvent = LoadProgressEvent | BackendChangedEvent;

export type EngineEvent = RequestEvent | PageEvent;

/**
 * Stops a running request: embedImages replies `cancelled: true`; embedLabels, downloadModel and importModel reply
 * with a CancelledError (a download keeps its partial files, so the next downloadModel resumes; embedLabels keeps
 * the prompts it computed in memory, so the next request for them resumes).
 */
export interface CancelParams {
  targetId: number;
}

/** Request type → its params and its result. */
export interface RequestMap {
  loadModel: { params: LoadModelParams; result: LoadedModel };
  embedLabels: { params: EmbedLabelsParams; result: EmbedLabelsResult };
  embedImages: { params: EmbedImagesParams; result: EmbedImagesResult };
  cancel: { params: CancelParams; result: { cancelled: boolean } };
  dispose: { params: Record<string, never>; result: null };
  /** What model storage holds, with sizes and the browser's quota. */
  listStoredModels: { params: Record<string, never>; result: StorageReport };
  /**
   * Downloads (or resumes) a model into storage, verified against its manifest; events: modelTransfer. Fails with
   * ManifestError, ModelFileError, StorageFullError, ModelBusyError (another tab is writing that model) or
   * CancelledError.
   */
  downloadModel: { params: DownloadModelParams; result: StoredModelInfo };
  /**
   * Checks a converted model folder against its manifest and stores it, all or nothing; events: modelTransfer.
   * Fails as downloadModel does (a cancelled import keeps nothing).
   */
  importModel: { params: ImportModelParams; result: StoredModelInfo };
  /**
   * Downloads the official checkpoint (resumable) and builds the model in the worker: convert, quantize, store,
   * verify; events: modelTransfer. Fails with an error whose message starts with the step ("Converting failed: …"),
   * ModelBusyError or CancelledError (the downloaded part is kept).
   */
  buildModelFromHub: { params: BuildFromHubParams; result: StoredModelInfo };
  /**
   * Removes a stored model (and any partial download of it); other models are untouched. A download of it running
   * in this worker is cancelled first; the loaded model keeps working (its sessions hold their bytes).
   */
  deleteStoredModel: { params: { modelId: string }; result: null };
  /** How many image embeddings the cache holds, and why it is off if it is. */
  embeddingCacheInfo: { params: Record<string, never>; result: EmbeddingCacheInfo };
  /** Empties the image-embedding cache (every model); returns how many entries there were. */
  clearEmbeddingCache: { params: Record<string, never>; result: { removed: number } };
  /**
   * Deletes everything EVA Lens keeps on this device from the worker's side: every stored model and partial
   * download, and the embedding cache (images, thumbnails, labels, probe passes). Stops running work first.
   */
  forgetEverything: { params: Record<string, never>; result: ForgetEverythingResult };
  /**
   * Fault injection for the e2e suite: destroys the WebGPU device the model runs on (as a driver reset would), so
   * the fallback to WASM can be tested; nothing happens on WASM.
   */
  simulateGpuLoss: { params: Record<string, never>; result: { destroyed: boolean } };
  /**
   * Groups of near-duplicate images among the given embeddings (single linkage at `threshold`, see
   * core/similarity.ts): n² dot products, run here so that the page stays responsive with thousands of images.
   */
  nearDuplicates: { params: NearDuplicatesParams; result: NearDuplicatesResult };
}

export interface NearDuplicatesParams {
  /** [count × dim] L2-normalised rows, one per image, in the order of `imageIds`. */
  embeddings: Float32Array;
  dim: number;
  imageIds: string[];
  threshold: number;
}

export interface NearDuplicatesResult {
  /** Largest group first; each group's image ids in the order given; groups of one are left out. */
  groups: { imageIds: string[]; weakestLink: number }[];
}

export interface ForgetEverythingResult {
  models: number;
  images: number;
}

export interface EmbeddingCacheInfo {
  entries: number;
  /** Null while the cache works; otherwise the reason it was switched off for this page (e.g. private mode). */
  disabledReason: string | null;
}

export type RequestType = keyof RequestMap;

export type WorkerRequest = {
  [K in RequestType]: { id: number; type: K; params: RequestMap[K]['params'] };
}[RequestType];

export interface ResultReply {
  kind: 'result';
  id: number;
  value: RequestMap[RequestType]['result'];
}

export interface ErrorReply {
  kind: 'error';
  id: number;
  /** The error's class name (ManifestError, BackendError…), kept so the page can tell failures apart. */
  name: string;
  message: string;
}

export interface EventMessage {
  kind: 'event';
  event: EngineEvent;
}

/** Everything the worker posts to the page. */
export type WorkerMessage = ResultReply | ErrorReply | EventMessage;
