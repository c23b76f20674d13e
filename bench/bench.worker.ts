/// <reference lib="webworker" />
// One bench case per worker: the page starts a fresh worker for each request and terminates it after the reply.
import { describeError } from '../src/core/errors';
import { runMatmulCase } from './matmulCase';
import { recordWasmMemories } from './memoryProbe';
import { runModelCase } from './modelCase';
import { runPeerCase } from './peerCase';
import { runPhotoCase } from './photoCase';
import { runPreprocessCase } from './preprocessCase';
import type { WorkerReply, WorkerRequest, WorkerResult } from './protocol';

recordWasmMemories();

const scope = self as unknown as DedicatedWorkerGlobalScope;

function run(request: WorkerRequest): Promise<WorkerResult> {
  switch (request.kind) {
    case 'model':
      return runModelCase(request);
    case 'matmul':
      return runMatmulCase(request);
    case 'preprocess':
      return runPreprocessCase(request, 'worker');
    case 'peer':
      return runPeerCase(request);
    case 'photos':
      return runPhotoCase(request);
  }
}

scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  run(event.data).then(
    (result) => scope.postMessage({ ok: true, result } satisfies WorkerReply),
    (error: unknown) => scope.postMessage({ ok: false, error: describeError(error) } satisfies WorkerReply),
  );
});
