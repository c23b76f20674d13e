/**
 * The worker side of the protocol: routes typed requests to an engine (inference) and a model library (storage),
 * and posts exactly one reply per request, plus events. It never touches `self`; the worker entry passes `post`, and
 * tests pass a fake engine, a fake library and a fake `post`.
 */
import { ProtocolError, describeError } from '../engine/errors';
import type { ImageSink } from '../engine/imageBatches';
import type { ModelTransferUpdate } from '../engine/modelLibrary';
import type { EmbedLabelsRun } from '../engine/textEmbedder';
import type { LoadEvent } from '../engine/zeroShotEngine';
import {
  isWorkerRequest,
  type BuildFromHubParams,
  type DownloadModelParams,
  type EmbedImagesParams,
  type EmbedImagesResult,
  type EmbedLabelsParams,
  type EmbedLabelsResult,
  type EmbeddingCacheInfo,
  type EngineEvent,
  type ImportModelParams,
  type LoadedModel,
  type LoadModelParams,
  type RequestMap,
  type RequestType,
  type StorageReport,
  type StoredModelInfo,
  type WorkerMessage,
  type WorkerRequest,
} from './protocol';

/** What the handler needs of an engine (ZeroShotEngine in the worker). */
export interface HandlerEngine {
  load(params: LoadModelParams, emit: (event: LoadEvent) => void): Promise<LoadedModel>;
  embedLabels(params: EmbedLabelsParams, run?: EmbedLabelsRun): Promise<EmbedLabelsResult>;
  embedImages(params: EmbedImagesParams, sink: ImageSink, signal: AbortSignal): Promise<EmbedImagesResult>;
  embeddingCacheInfo(): Promise<EmbeddingCacheInfo>;
  clearEmbeddingCache(): Promise<{ removed: number }>;
  dispose(): Promise<void> | void;
  /** Events outside a load (a backend change when the GPU fails mid-batch). */
  setEventSink?(sink: (event: LoadEvent) => void): void;
  simulateGpuLoss?(): Promise<boolean>;
}

/** What the handler needs of model storage (ModelLibrary in the worker). */
export interface HandlerLibrary {
  report(): Promise<StorageReport>;
  download(
    params: DownloadModelParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal: AbortSignal,
  ): Promise<StoredModelInfo>;
  import(
    params: ImportModelParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal: AbortSignal,
  ): Promise<StoredModelInfo>;
  buildFromHub(
    params: BuildFromHubParams,
    onProgress: (update: ModelTransferUpdate) => void,
    signal: AbortSignal,
  ): Promise<StoredModelInfo>;
  delete(modelId: string): Promise<void>;
  /** Deletes every stored model and partial download; returns how many models there were. */
  deleteAll(): Promise<number>;
}

export type PostMessage = (message: WorkerMessage, transfer: Transferable[]) => void;

interface Reply<K extends RequestType> {
  value: RequestMap[K]['result'];
  transfer: Transferable[];
}

/** The buffer behind `array`, when handing it over cannot detach anything else (the view covers all of it). */
function ownBuffer(array: Float32Array): Transferable[] {
  const { buffer } = array;
  return buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}

export class WorkerHandler {
  /** Running cancellable requests (embedLabels, embedImages, transfers), so that 'cancel' can stop them. */
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly engine: HandlerEngine,
    private readonly library: HandlerLibrary,
    private readonly post: PostMessage,
  ) {
    engine.setEventSink?.((event) => this.postEvent(event));
  }

  /** Handles one message from the page; resolves once its reply is posted. Never throws. */
  async handle(message: unknown): Promise<void> {
    if (!isWorkerRequest(message)) {
      const id = (message as { id?: unknown } | null)?.id;
      if (typeof id === 'number') {
        this.postError(
          id,
          new ProtocolError(
            `The worker received a request it does not understand (type ${JSON.stringify((message as { type?: unknown }).type)}).`,
          ),
        );
      }
      return;
    }
    try {
      const { value, transfer } = await this.dispatch(message);
      this.post({ kind: 'result', id: message.id, value }, transfer);
    } catch (error) {
      this.postError(message.id, error);
    }
  }

  private dispatch(request: WorkerRequest): Promise<Reply<RequestType>> {
    switch (request.type) {
      case 'loadModel':
        return this.loadModel(request.params);
      case 'embedLabels':
        return this.embedLabels(request.id, request.params);
      case 'embedImages':
        return this.embedImages(request.id, request.params);
      case 'cancel':
        return Promise.resolve(this.cancel(request.params.targetId));
      case 'dispose':
        return this.dispose();
      case 'listStoredModels':
        return this.library.report().then((value) => ({ value, transfer: [] }));
      case 'downloadModel':
        return this.transferModel(request.id, (onProgress, signal) =>
          this.library.download(request.params, onProgress, signal),
        );
      case 'importModel':
        return this.transferModel(request.id, (onProgress, signal) =>
          this.library.import(request.params, onProgress, signal),
        );
      case 'buildModelFromHub':
        return this.transferModel(request.id, (onProgress, signal) =>
          this.library.buildFromHub(request.params, onProgress, signal),
        );
      case 'deleteStoredModel':
        return this.library.delete(request.params.modelId).then(() => ({ value: null, transfer: [] }));
      case 'embeddingCacheInfo':
        return this.engine.embeddingCacheInfo().then((value) => ({ value, transfer: [] }));
      case 'clearEmbeddingCache':
        return this.engine.clearEmbeddingCache().then((value) => ({ value, transfer: [] }));
      case 'forgetEverything':
        return this.forgetEverything();
      case 'simulateGpuLoss':
        return (this.engine.simulateGpuLoss?.() ?? Promise.resolve(false)).then((destroyed) => ({
          value: { destroyed },
          transfer: [],
        }));
    }
  }

  private async loadModel(params: LoadModelParams): Promise<Reply<'loadModel'>> {
    const value = await this.engine.load(params, (event) => this.postEvent(event));
    return { value, transfer: [] };
  }

  /** Progress goes out as labelProgress events tagged with the request id; 'cancel' stops it between batches. */
  private async embedLabels(requestId: number, params: EmbedLabelsParams): Promise<Reply<'embedLabels'>> {
    const value = await this.cancellable(requestId, (signal) =>
      this.engine.embedLabels(params, {
        signal,
        onProgress: ({ done, total }) => this.postEvent({ type: 'labelProgress', requestId, done, total }),
      }),
    );
    return { value, transfer: ownBuffer(value.embeddings) };
  }

  private async embedImages(requestId: number, params: EmbedImagesParams): Promise<Reply<'embedImages'>> {
    const sink: ImageSink = {
      image: (e) => this.postEvent({ type: 'imageEmbedded', requestId, ...e }, ownBuffer(e.embedding)),
      failed: (e) => this.postEvent({ type: 'imageFailed', requestId, ...e }),
    };
    const value = await this.cancellable(requestId, (signal) =>
      this.engine.embedImages(params, sink, signal),
    );
    return { value, transfer: [] };
  }

  /** A download or import: its progress goes out as modelTransfer events tagged with the request id. */
  private async transferModel(
    requestId: number,
    run: (onProgress: (update: ModelTransferUpdate) => void, signal: AbortSignal) => Promise<StoredModelInfo>,
  ): Promise<Reply<'downloadModel' | 'importModel' | 'buildModelFromHub'>> {
    const onProgress = (update: ModelTransferUpdate) =>
      this.postEvent({ type: 'modelTransfer', requestId, ...update });
    const value = await this.cancellable(requestId, (signal) => run(onProgress, signal));
    return { value, transfer: [] };
  }

  /** Runs a request that 'cancel' (or dispose) can stop through its signal. */
  private async cancellable<T>(requestId: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      return await run(controller.signal);
    } finally {
      this.running.delete(requestId);
    }
  }

  private cancel(targetId: number): Reply<'cancel'> {
    const controller = this.running.get(targetId);
    controller?.abort();
    return { value: { cancelled: controller !== undefined }, transfer: [] };
  }

  private async dispose(): Promise<Reply<'dispose'>> {
    for (const controller of this.running.values()) controller.abort();
    await this.engine.dispose();
    return { value: null, transfer: [] };
  }

  /** Stops everything, then deletes every stored model and the embedding cache. */
  private async forgetEverything(): Promise<Reply<'forgetEverything'>> {
    await this.dispose();
    const models = await this.library.deleteAll();
    const { removed } = await this.engine.clearEmbeddingCache();
    return { value: { models, images: removed }, transfer: [] };
  }

  private postEvent(event: EngineEvent, transfer: Transferable[] = []): void {
    this.post({ kind: 'event', event }, transfer);
  }

  private postError(id: number, error: unknown): void {
    const name = error instanceof Error && error.name ? error.name : 'Error';
    this.post({ kind: 'error', id, name, message: describeError(error) }, []);
  }
}
