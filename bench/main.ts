// The bench page: `bench/run.mjs` drives it through `window.evaBench` (see BenchPageApi in protocol.ts).
import { runPreprocessCase } from './preprocessCase';
import type { BenchPageApi, WorkerReply, WorkerRequest, WorkerResult } from './protocol';

function inWorker(request: WorkerRequest): Promise<WorkerResult> {
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<WorkerResult>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.error));
    });
    worker.addEventListener('error', (event) => reject(new Error(`worker error: ${event.message}`)));
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}

const api: BenchPageApi = {
  environment: () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
  }),
  inWorker,
  preprocessOnMainThread: (request) => runPreprocessCase(request, 'main-thread'),
};

(window as unknown as { evaBench: BenchPageApi }).evaBench = api;
document.body.dataset.ready = 'true';
