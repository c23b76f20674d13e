/**
 * The worker side of the protocol: one handler per request type in a table typed from core/protocol's RequestMap
 * (so each handler must return its own request's result), routing to an engine (inference) and a model library
 * (storage), and posting exactly one reply per request, plus events. It never touches `self`; the worker entry
 * passes `post`, and tests pass a fake engine, a fake library and a fake `post`.
 */
import { ProtocolError, describeError } from '../core/errors';
import type { ImageSink } from '../engine/image/imageBatches';
import type { ModelTransferUpdate } from '../engine/library/modelLibrary';
import type { LoadEvent } from '../engine/inference/zeroShotEngine';
import type { EmbedLabelsRun } from '../engine/text/textEmbedder';
import { nearDuplicateGroups } from '../core/similarity';
import type {
  BuildFromHubParams,
  DownloadModelParams,
  EmbedImagesParams,
  EmbedImagesResult,
  EmbedLabelsParams,
  EmbedLabelsResult,
  EmbeddingCacheInfo,
  EngineEvent,
  ImportModelParams,
  LoadedModel,
  LoadModelParams,
  NearDuplicatesParams,
  RequestMap,
  RequestType,
  StorageReport,
  StoredModelInfo,
  WorkerMessage,
  WorkerRequest,
} from '../core/protocol';

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

/** One handler per request type; the mapped type makes each return its own request's reply. */
type HandlerTable = {
  [K in RequestType]: (params: RequestMap[K]['params'], requestId: number) => Promise<Reply<K>>;
};

/** A reply that hands over nothing. */
const plain = <T>(value: T) => ({ value, transfer: [] as Transferable[] });

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

  private readonly handlers: HandlerTable = {
    loadModel: async (params) => plain(await this.engine.load(params, (event) => this.postEvent(event))),
    embedLabels: (params, requestId) => this.embedLabels(requestId, params),
    embedImages: (params, requestId) => this.embedImages(requestId, params),
    cancel: async ({ targetId }) => {
      const controller = this.running.get(targetId);
      controller?.abort();
      return plain({ cancelled: controller !== undefined });
    },
    dispose: async () => {
      await this.stopAll();
      return plain(null);
    },
    listStoredModels: async () => plain(await this.library.report()),
    downloadModel: (params, requestId) =>
      this.transferModel(requestId, (onProgress, signal) =>
        this.library.download(params, onProgress, signal),
      ),
    importModel: (params, requestId) =>
      this.transferModel(requestId, (onProgress, signal) => this.library.import(params, onProgress, signal)),
    buildModelFromHub: (params, requestId) =>
      this.transferModel(requestId, (onProgress, signal) =>
        this.library.buildFromHub(params, onProgress, signal),
      ),
    deleteStoredModel: async ({ modelId }) => {
      await this.library.delete(modelId);
      return plain(null);
    },
    embeddingCacheInfo: async () => plain(await this.engine.embeddingCacheInfo()),
    clearEmbeddingCache: async () => plain(await this.engine.clearEmbeddingCache()),
    forgetEverything: async () => {
      // Stops everything, then deletes every stored model and the embedding cache.
      await this.stopAll();
      const models = await this.library.deleteAll();
      const { removed } = await this.engine.clearEmbeddingCache();
      return plain({ models, images: removed });
    },
    simulateGpuLoss: async () => plain({ destroyed: (await this.engine.simulateGpuLoss?.()) ?? false }),
    nearDuplicates: async (params) => plain(nearDuplicates(params)),
  };

  constructor(
    private readonly engine: HandlerEngine,
    private readonly library: HandlerLibrary,
    private readonly post: PostMessage,
  ) {
    engine.setEventSink?.((event) => this.postEvent(event));
  }

  /** Handles one message from the page; resolves once its reply is posted. Never throws. */
  async handle(message: unknown): Promise<void> {
    if (!this.isRequest(message)) {
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
      // The one place the table is indexed by a runtime type; the table itself is checked per request.
      const handler = this.handlers[message.type] as (
        params: WorkerRequest['params'],
        requestId: number,
      ) => Promise<Reply<RequestType>>;
      const { value, transfer } = await handler(message.params, message.id);
      this.post({ kind: 'result', id: message.id, value }, transfer);
    } catch (error) {
      this.postError(message.id, error);
    }
  }

  /** Shape check for messages from the page (the page is trusted, but a typo should fail loudly). */
  private isRequest(value: unknown): value is WorkerRequest {
    if (typeof value !== 'object' || value === null) return false;
    const candidate = value as { id?: unknown; type?: unknown; params?: unknown };
    return (
      typeof candidate.id === 'number' &&
      typeof candidate.type === 'string' &&
      Object.hasOwn(this.handlers, candidate.type) &&
      typeof candidate.params === 'object' &&
      candidate.params !== null
    );
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
    return plain(
      await this.cancellable(requestId, (signal) => this.engine.embedImages(params, sink, signal)),
    );
  }

  /** A download, import or build: its progress goes out as modelTransfer events tagged with the request id. */
  private async transferModel(
    requestId: number,
    run: (onProgress: (update: ModelTransferUpdate) => void, signal: AbortSignal) => Promise<StoredModelInfo>,
  ): Promise<{ value: StoredModelInfo; transfer: Transferable[] }> {
    const onProgress = (update: ModelTransferUpdate) =>
      this.postEvent({ type: 'modelTransfer', requestId, ...update });
    return plain(await this.cancellable(requestId, (signal) => run(onProgress, signal)));
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

  private async stopAll(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
    await this.engine.dispose();
  }

  private postEvent(event: EngineEvent, transfer: Transferable[] = []): void {
    this.post({ kind: 'event', event }, transfer);
  }

  private postError(id: number, error: unknown): void {
    const name = error instanceof Error && error.name ? error.name : 'Error';
    this.post({ kind: 'error', id, name, message: describeError(error) }, []);
  }
}

/** Near-duplicate groups by image id, from the rows of one embedding matrix. */
function nearDuplicates({ embeddings, dim, imageIds, threshold }: NearDuplicatesParams) {
  const rows = imageIds.map((_, index) => embeddings.subarray(index * dim, (index + 1) * dim));
  return {
    groups: nearDuplicateGroups(rows, threshold).map(({ members, weakestLink }) => ({
      imageIds: members.map((index) => imageIds[index]!),
      weakestLink,
    })),
  };
}
