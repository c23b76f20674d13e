/**
 * The messages between the page (EngineClient) and the inference worker (WorkerHandler). Requests carry an id;
 * every request gets exactly one reply (result or error) with that id; events carry no reply id.
 */
import type { Backend, Dtype, ModelManifest } from '../engine/manifest';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

export interface LoadModelParams {
  manifestUrl: string;
  backend: BackendPreference;
}

export interface LoadedModel {
  manifest: ModelManifest;
  backend: Backend;
  dtype: Dtype;
  probeCosine: { image: number; text: number };
  /** Human sentences on what was tried and why it was not used, e.g. "WebGPU int8 failed the probe (cosine 0.12)". */
  fallbackNotes: string[];
  loadMs: number;
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
}

export interface EmbedImagesParams {
  images: { imageId: string; file: Blob; name: string }[];
  thumbnailSize: number;
}

export interface EmbedImagesResult {
  embedded: number;
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
  ms: number; // decode + preprocess + inference for this image
}

export interface ImageFailedEvent {
  type: 'imageFailed';
  requestId: number;
  imageId: string;
  message: string;
}

export interface LoadProgressEvent {
  type: 'loadProgress';
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

export type EngineEvent = ImageEmbeddedEvent | ImageFailedEvent | LoadProgressEvent | BackendChangedEvent;

/** Stops a running request (embedImages); the target still gets its own reply (`cancelled: true`). */
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

const REQUEST_TYPES: readonly RequestType[] = [
  'loadModel',
  'embedLabels',
  'embedImages',
  'cancel',
  'dispose',
];

/** Shape check for messages arriving in the worker (the page is trusted, but a typo should fail loudly). */
export function isWorkerRequest(value: unknown): value is WorkerRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { id?: unknown; type?: unknown; params?: unknown };
  return (
    typeof candidate.id === 'number' &&
    REQUEST_TYPES.includes(candidate.type as RequestType) &&
    typeof candidate.params === 'object' &&
    candidate.params !== null
  );
}
