/**
 * The machine's limit: GFLOP/s of large MatMuls per numeric format in onnxruntime-web WASM, in the same page and
 * runtime settings as the towers. The graphs (chains of `layers` MatMuls) are written by `bench/matmul_models.py`
 * with the toolchain's quantizers; every format gets the same weights and input, so each output is also compared
 * with fp32's.
 */
import { OrtLoader, importBrowserOrt } from '../src/engine/inference/backend';
import { cosineSimilarity } from '../src/core/ranking';
import type { MatmulCaseRequest, MatmulCaseResult } from './protocol';
import { summarizeRuns, timeRuns } from './stats';

/** Deterministic inputs in [-1, 1) (a 32-bit LCG), so every format multiplies the same matrix. */
function pseudoRandom(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

export async function runMatmulCase(request: MatmulCaseRequest): Promise<MatmulCaseResult> {
  const ort = await new OrtLoader(importBrowserOrt, {
    wasmPaths: request.wasmPaths,
    numThreads: request.threads,
  }).load('wasm');
  const fp32Outputs = new Map<string, Float32Array>();
  const results: MatmulCaseResult['results'] = [];
  for (const model of request.models) {
    const response = await fetch(model.url);
    if (!response.ok) throw new Error(`${model.url}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const sessionStarted = performance.now();
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const sessionMs = performance.now() - sessionStarted;
    try {
      const x = new ort.Tensor('float32', pseudoRandom(model.m * model.k, 12345), [model.m, model.k]);
      let output = new Float32Array(0);
      const run = async () => {
        const outputs = await session.run({ [session.inputNames[0]!]: x });
        const y = outputs[session.outputNames[0]!]!;
        output = new Float32Array(y.data as Float32Array);
        y.dispose();
      };
      await timeRuns(request.warmupRuns, run);
      const runs = summarizeRuns(await timeRuns(request.timedRuns, run));
      const shapeKey = `${model.m}x${model.k}x${model.n}`;
      if (model.kind === 'fp32') fp32Outputs.set(shapeKey, output);
      const reference = fp32Outputs.get(shapeKey);
      results.push({
        ...model,
        sessionMs,
        runs,
        gflops: (2 * model.layers * model.m * model.k * model.n) / (runs.medianMs * 1e-3) / 1e9,
        cosineToFp32: reference ? cosineSimilarity(output, reference) : null,
      });
    } finally {
      await session.release();
    }
  }
  return { kind: 'matmul', threadsUsed: ort.env.wasm.numThreads ?? null, results };
}
