/**
 * The page side of the protocol and the only way the UI talks to the inference worker: one promise per request
 * (matched by id), image and model-transfer events routed to the request that asked for them, load events to
 * listeners, and errors rebuilt with their original class name (ManifestError, StorageFullError…).
 */
import { BackendError, CancelledError, ENGINE_ERRORS, type EngineErrorName } from '../core/errors';
import type {
  CancellableRequest,
  PageEvent,
  RequestEvent,
  RequestEventMap,
  RequestMap,
  RequestType,
  RunningRequestType,
  WorkerMessage,
  WorkerRequest,
} from '../core/protocol';

export type { CancellableRequest } from '../core/protocol';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Hears the events of this request (its id in `requestId`). */
  onEvent?: (event: RequestEvent) => void;
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
  private readonly listeners = new Set<(e: PageEvent) => void>();
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

  /** Sends one request; the promise settles with its result or its error (rebuilt with its class). */
  call<K extends RequestType>(type: K, params: RequestMap[K]['params']): Promise<RequestMap[K]['result']> {
    return this.send(type, params);
  }

  /**
   * Starts a request that runs a while: `onEvent` hears its own events (images done, transfer progress) as they
   * come, and `cancel` asks the worker to stop; `done` then settles as the request's kind says (see CancelParams).
   */
  start<K extends RunningRequestType>(
    type: K,
    params: RequestMap[K]['params'],
    onEvent: (event: RequestEventMap[K]) => void,
  ): CancellableRequest<RequestMap[K]['result']> {
    const id = this.nextId;
    const done = this.send(type, params, onEvent as (event: RequestEvent) => void);
    return {
      done,
      cancel: () => {
        if (this.pending.has(id)) void this.send('cancel', { targetId: id }).catch(() => undefined);
      },
    };
  }

  /** Hears load progress and backend changes; returns the function that stops listening. */
  onEvent(listener: (e: PageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the worker; pending requests reject with CancelledError. */
  dispose(): void {
    this.worker.terminate();
    this.stop(new CancelledError('The inference engine was shut down.'));
  }

  private send<K extends RequestType>(
    type: K,
    params: RequestMap[K]['params'],
    onEvent?: (event: RequestEvent) => void,
  ): Promise<RequestMap[K]['result']> {
    if (this.stoppedReason) return Promise.reject(this.stoppedReason);
    const id = this.nextId++;
    return new Promise<RequestMap[K]['result']>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, onEvent });
      this.worker.postMessage({ id, type, params } as WorkerRequest);
    });
  }

  private receive(message: WorkerMessage): void {
    if (message.kind === 'event') {
      const { event } = message;
      if ('requestId' in event) this.pending.get(event.requestId)?.onEvent?.(event);
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
