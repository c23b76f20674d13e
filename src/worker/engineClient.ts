/**
 * The page side of the protocol and the only way the UI talks to the inference worker: one promise per request
 * (matched by id), image and model-transfer events routed to the request that asked for them, load events to
 * listeners, and errors rebuilt with their original class name (ManifestError, StorageFullError…).
 */
import { BackendError, CancelledError, ENGINE_ERRORS, type EngineErrorName } from '../engine/errors';
import type {
  BuildFromHubParams,
  BackendChangedEvent,
  DownloadModelParams,
  EmbedImagesParams,
  EmbedImagesResult,
  EmbedLabelsParams,
  EmbedLabelsResult,
  EmbeddingCacheInfo,
  ForgetEverythingResult,
  ImageEmbeddedEvent,
  ImageFailedEvent,
  ImportModelParams,
  LabelProgressEvent,
  LoadedModel,
  LoadModelParams,
  LoadProgressEvent,
  ModelTransferEvent,
  RequestMap,
  RequestType,
  StorageReport,
  StoredModelInfo,
  WorkerMessage,
  WorkerRequest,
} from './protocol';

type ClientEvent = LoadProgressEvent | BackendChangedEvent;

interface ImageCallbacks {
  image(e: ImageEmbeddedEvent): void;
  failed(e: ImageFailedEvent): void;
}

/** The events a request hears about itself (by its id). */
interface RequestListeners {
  images?: ImageCallbacks;
  transfer?: (e: ModelTransferEvent) => void;
  labels?: (e: LabelProgressEvent) => void;
}

interface Pending extends RequestListeners {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A request that runs a while and can be stopped. */
export interface CancellableRequest<T> {
  done: Promise<T>;
  /** Asks the worker to stop; `done` then settles as the request's kind says (see CancelParams). */
  cancel(): void;
}

/** An Error of the class named `name` when the engine defines it; otherwise a plain Error carrying that name. */
export function rehydrateError(name: string, message: string): Error {
  const ErrorClass = ENGINE_ERRORS[name as EngineErrorName] as (new (message: string) => Error) | undefined;
  if (ErrorClass) return new ErrorClass(message);
  const error = new Error(message);
  error.name = name;
  return error;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: ClientEvent) => void>();
  private stoppedReason: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => this.receive(event.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault?.();
      this.stop(
        new BackendError(
          `The inference worker stopped: ${event.message || 'it failed to start'}. Reload the page.`,
        ),
      );
    });
    worker.addEventListener('messageerror', () => {
      this.stop(new BackendError('A message from the inference worker could not be read. Reload the page.'));
    });
  }

  static create(): EngineClient {
    return new EngineClient(new Worker(new URL('./lens.worker.ts', import.meta.url), { type: 'module' }));
  }

  loadModel(p: LoadModelParams): Promise<LoadedModel> {
    return this.call('loadModel', p);
  }

  embedLabels(p: EmbedLabelsParams): Promise<EmbedLabelsResult> {
    return this.call('embedLabels', p);
  }

  /**
   * Embeds a label set with progress (`onProgress` hears done/total prompts after each batch); `cancel` makes
   * `done` reject with a CancelledError after the batch in flight.
   */
  embedLabelSet(
    p: EmbedLabelsParams,
    onProgress: (e: LabelProgressEvent) => void,
  ): CancellableRequest<EmbedLabelsResult> {
    return this.cancellable('embedLabels', p, { labels: onProgress });
  }

  /** Embeds images; `on` hears each one as soon as it is done. `cancel` stops after the current image. */
  embedImages(p: EmbedImagesParams, on: ImageCallbacks): CancellableRequest<EmbedImagesResult> {
    return this.cancellable('embedImages', p, { images: on });
  }

  /** What model storage holds (complete models, unfinished downloads) and the browser's quota. */
  listStoredModels(): Promise<StorageReport> {
    return this.call('listStoredModels', {});
  }

  /**
   * Downloads (or resumes) a model into storage; `onProgress` hears its modelTransfer events. `cancel` makes `done`
   * reject with a CancelledError and keeps the partial files, so the next downloadModel resumes.
   */
  downloadModel(
    p: DownloadModelParams,
    onProgress: (e: ModelTransferEvent) => void,
  ): CancellableRequest<StoredModelInfo> {
    return this.cancellable('downloadModel', p, { transfer: onProgress });
  }

  /** Checks and stores a converted model folder; like downloadModel, but a cancelled import keeps nothing. */
  importModel(
    p: ImportModelParams,
    onProgress: (e: ModelTransferEvent) => void,
  ): CancellableRequest<StoredModelInfo> {
    return this.cancellable('importModel', p, { transfer: onProgress });
  }

  /** Builds a model from the official weights on the hub (download, convert, quantize, verify); cancellable. */
  buildModelFromHub(
    p: BuildFromHubParams,
    onProgress: (e: ModelTransferEvent) => void,
  ): CancellableRequest<StoredModelInfo> {
    return this.cancellable('buildModelFromHub', p, { transfer: onProgress });
  }

  /** Removes a stored model and any partial download of it. */
  deleteStoredModel(modelId: string): Promise<null> {
    return this.call('deleteStoredModel', { modelId });
  }

  embeddingCacheInfo(): Promise<EmbeddingCacheInfo> {
    return this.call('embeddingCacheInfo', {});
  }

  /** Forgets every cached image embedding (and its thumbnail); returns how many there were. */
  clearEmbeddingCache(): Promise<{ removed: number }> {
    return this.call('clearEmbeddingCache', {});
  }

  /** Deletes every stored model and the embedding cache in the worker (see the protocol). */
  forgetEverything(): Promise<ForgetEverythingResult> {
    return this.call('forgetEverything', {});
  }

  /** Fault injection for the e2e suite (see the protocol): destroys the WebGPU device the model runs on. */
  simulateGpuLoss(): Promise<{ destroyed: boolean }> {
    return this.call('simulateGpuLoss', {});
  }

  /** Hears load progress and backend changes; returns the function that stops listening. */
  onEvent(listener: (e: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the worker; pending requests reject with CancelledError. */
  dispose(): void {
    this.worker.terminate();
    this.stop(new CancelledError('The inference engine was shut down.'));
  }

  private cancellable<K extends RequestType>(
    type: K,
    params: RequestMap[K]['params'],
    listeners: RequestListeners,
  ): CancellableRequest<RequestMap[K]['result']> {
    const id = this.nextId;
    const done = this.call(type, params, listeners);
    return {
      done,
      cancel: () => {
        if (this.pending.has(id)) void this.call('cancel', { targetId: id }).catch(() => undefined);
      },
    };
  }

  private call<K extends RequestType>(
    type: K,
    params: RequestMap[K]['params'],
    listeners: RequestListeners = {},
  ): Promise<RequestMap[K]['result']> {
    if (this.stoppedReason) return Promise.reject(this.stoppedReason);
    const id = this.nextId++;
    return new Promise<RequestMap[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, ...listeners });
      this.worker.postMessage({ id, type, params } as WorkerRequest);
    });
  }

  private receive(message: WorkerMessage): void {
    if (message.kind === 'event') {
      const { event } = message;
      if (event.type === 'imageEmbedded') this.pending.get(event.requestId)?.images?.image(event);
      else if (event.type === 'imageFailed') this.pending.get(event.requestId)?.images?.failed(event);
      else if (event.type === 'modelTransfer') this.pending.get(event.requestId)?.transfer?.(event);
      else if (event.type === 'labelProgress') this.pending.get(event.requestId)?.labels?.(event);
      else for (const listener of this.listeners) listener(event);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.kind === 'result') pending.resolve(message.value);
    else pending.reject(rehydrateError(message.name, message.message));
  }

  private stop(reason: Error): void {
    this.stoppedReason ??= reason;
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
  }
}
