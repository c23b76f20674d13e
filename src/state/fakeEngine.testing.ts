/** A stand-in for the worker client in unit tests: answers instantly and lets the test decide when images finish. */
import { vi, type Mock } from 'vitest';
import type { ModelManifest } from '../core/manifest';
import type {
  EmbedImagesParams,
  EmbedImagesResult,
  EmbedLabelsParams,
  EmbedLabelsResult,
  ImageEmbeddedEvent,
  ImageFailedEvent,
  LoadedModel,
  LoadModelParams,
  BuildFromHubParams,
  DownloadModelParams,
  ImportModelParams,
  ModelTransferEvent,
  PageEvent,
  RequestEventMap,
  LabelProgressEvent,
  RequestMap,
  RequestType,
  RunningRequestType,
  CancellableRequest,
  StorageReport,
  StoredModelInfo,
} from '../core/protocol';
import { CancelledError } from '../core/errors';
import { configureEngineBridge, resetEngineBridge } from './engineBridge';
import type { Scheduler } from './frameBatcher';
import { resetStore } from './resetStore.testing';
import type { LensEngine } from './workerClient';

export const DIM = 3;
export const LOGIT_SCALE = 100;

/** Labels and images are placed on the axes by the colour word they contain. */
const AXES: Record<string, number[]> = { red: [1, 0, 0], green: [0, 1, 0], blue: [0, 0, 1] };

export function colourVector(text: string, mix = 0): Float32Array {
  const word = Object.keys(AXES).find((colour) => text.includes(colour));
  const axis = word ? AXES[word]! : [1, 1, 1];
  const raw = axis.map((value) => value + mix);
  const norm = Math.hypot(...raw);
  return Float32Array.from(raw, (value) => value / norm);
}

export function fakeManifest(): ModelManifest {
  const file = { path: 'x.onnx', bytes: 1, sha256: '0' };
  return {
    schemaVersion: 1,
    id: 'fake',
    name: 'Fake model',
    architecture: 'fake',
    description: '',
    license: '',
    source: '',
    embedDim: DIM,
    logitScale: LOGIT_SCALE,
    image: { size: 4, mean: [0, 0, 0], std: [1, 1, 1], resizeMode: 'shortest', interpolation: 'bicubic' },
    text: { contextLength: 8, tokenizer: file, bosTokenId: 1, eosTokenId: 2, padTokenId: 0 },
    variants: [],
    probe: { imageFormula: 'eva-lens-probe-v1', imageEmbedding: [], textInputIds: [], textEmbedding: [] },
  };
}

export function fakeLoadedModel(): LoadedModel {
  return {
    manifest: fakeManifest(),
    backend: 'wasm',
    dtype: 'int8',
    probeCosine: { image: 0.999, text: 0.999 },
    fallbackNotes: [],
    loadMs: 5,
    loadStages: {},
    threads: 2,
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface ImageRequest {
  params: EmbedImagesParams;
  on: { image(e: ImageEmbeddedEvent): void; failed(e: ImageFailedEvent): void };
  done: Deferred<EmbedImagesResult>;
  cancel: Mock<() => void>;
  /** Reports every image as embedded (by the colour in its name) and resolves the request. */
  finish(): void;
}

/** The fake's answer to each quick request, typed from the protocol so a request added there must be faked here. */
type CallTable = {
  [K in Exclude<RequestType, RunningRequestType>]: (
    params: RequestMap[K]['params'],
  ) => Promise<RequestMap[K]['result']>;
};

/** The fake's start of each running request, hearing its own events. */
type StartTable = {
  [K in RunningRequestType]: (
    params: RequestMap[K]['params'],
    onEvent: (event: RequestEventMap[K]) => void,
  ) => CancellableRequest<RequestMap[K]['result']>;
};

type TransferKind = 'download' | 'import' | 'build';

export class FakeEngine implements LensEngine {
  imageRequests: ImageRequest[] = [];
  listeners = new Set<(e: PageEvent) => void>();
  loadModel = vi.fn(async (_params: LoadModelParams): Promise<LoadedModel> => fakeLoadedModel());
  embedLabels = vi.fn(async ({ labels }: EmbedLabelsParams): Promise<EmbedLabelsResult> => ({
    embeddings: Float32Array.from(labels.flatMap((label) => [...colourVector(label)])),
    dim: DIM,
    truncated: labels.map((label) => label.length > 40),
    ms: 1,
  }));
  /** The label-set request: progress in one step, then the embedLabels mock's answer (tests mock that one). */
  labelSetCancels: Mock<() => void>[] = [];
  embedLabelSet(params: EmbedLabelsParams, onProgress: (e: LabelProgressEvent) => void) {
    const cancel = vi.fn();
    this.labelSetCancels.push(cancel);
    const total = params.labels.length * params.templates.length;
    onProgress({ type: 'labelProgress', requestId: 0, done: 0, total });
    return { done: this.embedLabels(params), cancel };
  }
  dispose = vi.fn();

  /** What "storage" holds; downloads and imports add to it when the test finishes them. */
  stored: StoredModelInfo[] = [];
  transfers: {
    kind: TransferKind;
    params: DownloadModelParams | ImportModelParams | BuildFromHubParams;
    onProgress: (e: ModelTransferEvent) => void;
    done: Deferred<StoredModelInfo>;
    cancel: Mock<() => void>;
  }[] = [];
  listStoredModels = vi.fn(async (): Promise<StorageReport> => ({
    kind: 'memory',
    models: [...this.stored],
    incomplete: [],
    quota: 1e9,
    usage: this.stored.reduce((sum, m) => sum + m.bytes, 0),
  }));
  deleteStoredModel = vi.fn(async (modelId: string): Promise<null> => {
    this.stored = this.stored.filter((m) => m.id !== modelId);
    return null;
  });
  embeddingCacheInfo = vi.fn(async () => ({ entries: 0, disabledReason: null }));
  clearEmbeddingCache = vi.fn(async () => ({ removed: 0 }));
  forgetEverything = vi.fn(async () => ({ models: 0, images: 0 }));
  simulateGpuLoss = vi.fn(async () => ({ destroyed: false }));
  nearDuplicates = vi.fn(async () => ({ groups: [] }));

  private readonly calls: CallTable = {
    loadModel: (params) => this.loadModel(params),
    cancel: async () => ({ cancelled: false }),
    dispose: async () => null,
    listStoredModels: () => this.listStoredModels(),
    deleteStoredModel: ({ modelId }) => this.deleteStoredModel(modelId),
    embeddingCacheInfo: () => this.embeddingCacheInfo(),
    clearEmbeddingCache: () => this.clearEmbeddingCache(),
    forgetEverything: () => this.forgetEverything(),
    simulateGpuLoss: () => this.simulateGpuLoss(),
    nearDuplicates: () => this.nearDuplicates(),
  };

  private readonly starts: StartTable = {
    embedLabels: (params, onEvent) => this.embedLabelSet(params, onEvent),
    embedImages: (params, onEvent) =>
      this.embedImages(params, {
        image: (event) => onEvent(event),
        failed: (event) => onEvent(event),
      }),
    downloadModel: (params, onEvent) => this.startTransfer('download', params, onEvent),
    importModel: (params, onEvent) => this.startTransfer('import', params, onEvent),
    buildModelFromHub: (params, onEvent) => this.startTransfer('build', params, onEvent),
  };

  call<K extends RequestType>(type: K, params: RequestMap[K]['params']): Promise<RequestMap[K]['result']> {
    // A running request asked for without listening (a one-off search query) is started and awaited.
    if (Object.hasOwn(this.starts, type))
      return this.start(type as K & RunningRequestType, params as never, () => undefined).done;
    const answer = this.calls[type as Exclude<RequestType, RunningRequestType>] as unknown as (
      params: RequestMap[K]['params'],
    ) => Promise<RequestMap[K]['result']>;
    return answer(params);
  }

  start<K extends RunningRequestType>(
    type: K,
    params: RequestMap[K]['params'],
    onEvent: (event: RequestEventMap[K]) => void,
  ): CancellableRequest<RequestMap[K]['result']> {
    return (this.starts[type] as StartTable[K])(params, onEvent);
  }

  private startTransfer(
    kind: TransferKind,
    params: DownloadModelParams | ImportModelParams | BuildFromHubParams,
    onProgress: (e: ModelTransferEvent) => void,
  ) {
    const done = deferred<StoredModelInfo>();
    const cancel = vi.fn(() => done.reject(new CancelledError('The download was cancelled.')));
    this.transfers.push({ kind, params, onProgress, done, cancel });
    return { done: done.promise, cancel };
  }

  private embedImages(
    params: EmbedImagesParams,
    on: ImageRequest['on'],
  ): { done: Promise<EmbedImagesResult>; cancel(): void } {
    const done = deferred<EmbedImagesResult>();
    const request: ImageRequest = {
      params,
      on,
      done,
      cancel: vi.fn(() => done.resolve({ embedded: 0, failed: 0, cancelled: true, ms: 0 })),
      finish: () => {
        for (const image of params.images) {
          on.image({
            type: 'imageEmbedded',
            requestId: 1,
            imageId: image.imageId,
            embedding: colourVector(image.name, 0.1),
            width: 10,
            height: 10,
            thumbnail: new Blob(['thumb'], { type: 'image/jpeg' }),
            ms: 20,
          });
        }
        done.resolve({ embedded: params.images.length, failed: 0, cancelled: false, ms: 20 });
      },
    };
    this.imageRequests.push(request);
    return { done: done.promise, cancel: request.cancel };
  }

  onEvent(listener: (e: PageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: PageEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** A File with a fixed lastModified, so tests control duplicates. */
export function imageFile(name: string, type = 'image/png', lastModified = 1): File {
  return new File([`pixels of ${name}`], name, { type, lastModified });
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Drives the bridge with `engine` for one test: labels embedded without a debounce, the real clock, and batched
 * store updates flushed by `schedule` (at once unless the test collects them as frames).
 */
export function connectFakeEngine(engine: FakeEngine, schedule: Scheduler = (flush) => flush()): void {
  configureEngineBridge({ createEngine: () => engine, schedule, labelDebounceMs: 0, now: () => Date.now() });
}

/** Undoes connectFakeEngine and everything the test left in the store and in spies. */
export function disconnectFakeEngine(): void {
  resetEngineBridge();
  resetStore();
  vi.restoreAllMocks();
}
