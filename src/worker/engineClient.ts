/**
 * The page side of the protocol and the only way the UI talks to the inference worker: one promise per request
 * (matched by id), image events routed to the request that asked for them, load events to listeners, and errors
 * rebuilt with their original class name (ManifestError, BackendError…).
 */
import { BackendError, CancelledError, ENGINE_ERRORS, type EngineErrorName } from '../engine/errors';
import type {
  BackendChangedEvent,
  EmbedImagesParams,
  EmbedImagesResult,
  EmbedLabelsParams,
  EmbedLabelsResult,
  ImageEmbeddedEvent,
  ImageFailedEvent,
  LoadedModel,
  LoadModelParams,
  LoadProgressEvent,
  RequestMap,
  RequestType,
  WorkerMessage,
  WorkerRequest,
} from './protocol';

type ClientEvent = LoadProgressEvent | BackendChangedEvent;

interface ImageCallbacks {
  image(e: ImageEmbeddedEvent): void;
  failed(e: ImageFailedEvent): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  images?: ImageCallbacks;
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

  /** Embeds images; `on` hears each one as soon as it is done. `cancel` stops after the current image. */
  embedImages(
    p: EmbedImagesParams,
    on: ImageCallbacks,
  ): { done: Promise<EmbedImagesResult>; cancel(): void } {
    const id = this.nextId;
    const done = this.call('embedImages', p, on);
    return {
      done,
      cancel: () => {
        if (this.pending.has(id)) void this.call('cancel', { targetId: id }).catch(() => undefined);
      },
    };
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

  private call<K extends RequestType>(
    type: K,
    params: RequestMap[K]['params'],
    images?: ImageCallbacks,
  ): Promise<RequestMap[K]['result']> {
    if (this.stoppedReason) return Promise.reject(this.stoppedReason);
    const id = this.nextId++;
    return new Promise<RequestMap[K]['result']>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (value: unknown) => void,
        reject,
        ...(images ? { images } : {}),
      });
      this.worker.postMessage({ id, type, params } as WorkerRequest);
    });
  }

  private receive(message: WorkerMessage): void {
    if (message.kind === 'event') {
      const { event } = message;
      if (event.type === 'imageEmbedded') this.pending.get(event.requestId)?.images?.image(event);
      else if (event.type === 'imageFailed') this.pending.get(event.requestId)?.images?.failed(event);
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
