/// <reference lib="webworker" />
// The inference worker: a ZeroShotEngine behind the message protocol (all logic lives in handler.ts and src/engine).
import { ZeroShotEngine } from '../engine/zeroShotEngine';
import { WorkerHandler } from './handler';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const wasmPaths = new URL(`${import.meta.env.BASE_URL}ort/`, scope.location.href).href;
const post = (message: unknown, transfer: Transferable[]) => scope.postMessage(message, transfer);
const handler = new WorkerHandler(new ZeroShotEngine({ wasmPaths }), post);
scope.addEventListener('message', (event: MessageEvent<unknown>) => void handler.handle(event.data));
