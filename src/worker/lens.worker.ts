/// <reference lib="webworker" />
// The inference worker: a ZeroShotEngine and the model library behind the message protocol (all logic lives in
// handler.ts and src/engine). Both share one model store, opened on first use.
import { checkWebGpuDevice } from '../engine/inference/backend';
import { IdbEmbeddingCache } from '../engine/storage/idbEmbeddingCache';
import { ModelLibrary } from '../engine/library/modelLibrary';
import { lazyModelStore } from '../engine/storage/openModelStore';
import { ZeroShotEngine } from '../engine/inference/zeroShotEngine';
import { WorkerHandler } from './handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const wasmPaths = new URL(`${import.meta.env.BASE_URL}ort/`, scope.location.href).href;
const post = (message: unknown, transfer: Transferable[]) => scope.postMessage(message, transfer);
const openStore = lazyModelStore();
const engine = new ZeroShotEngine({
  wasmPaths,
  openStore,
  embeddingCache: new IdbEmbeddingCache(),
  checkWebGpuDevice: () => checkWebGpuDevice(),
});
const handler = new WorkerHandler(
  engine,
  new ModelLibrary({ openStore, importOrt: () => engine.wasmRuntime() }),
  post,
);
scope.addEventListener('message', (event: MessageEvent<unknown>) => void handler.handle(event.data));
