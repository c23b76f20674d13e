/**
 * EVA02-CLIP-B/16 on onnxruntime-web's WebGPU execution provider, in Node with Dawn (the `webgpu` npm package:
 * the WebGPU implementation Chromium uses, as a Node addon). Run on the GPU machine by bench/gpu/device.sh, where
 * no Chromium can travel (the working tree is limited to 64 MiB); the ORT build, kernels and Dawn are the ones the
 * app runs in the browser, so the numbers are the GPU's, minus the browser's own overhead.
 *
 *   node bench/gpu/webgpu-node.mjs <payload dir> <models dir> <out.json> <fp16|q4|matmul>
 *
 * One process per part: after one failure onnxruntime-web's WebGPU provider only answers "another WebGPU EP
 * inference session is being created", so a failing dtype must not take the others with it.
 *
 * Measures per dtype (fp16, 4-bit): session creation, image latency at batch 1 (median of 20 after 3 warm-ups), images/s at
 * batch 8, the 1,000 ImageNet class names with one template at their real length (sorted, batches of 64) and padded
 * to 77; and the machine's limit: GFLOP/s of large MatMuls (fp32, fp16, 4-bit) through the same provider.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [payload, modelsDir, outPath, part] = process.argv.slice(2);
const { create, globals } = await import(join(payload, 'webgpu', 'index.js'));
Object.assign(globalThis, globals);
// onnxruntime-web's WebAssembly memory is shared (SharedArrayBuffer) and it hands views of it to writeBuffer.
// Chromium accepts those; dawn.node throws "Invalid argument" (or crashes), so they are copied to plain memory.
const writeBuffer = GPUQueue.prototype.writeBuffer;
GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset, size) {
  const plain = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer ? data.slice() : data;
  return writeBuffer.call(this, buffer, offset, plain, dataOffset, size);
};
// Dawn turns shader-f16 off on NVIDIA's Vulkan driver unless a toggle asks for it; without it ORT's fp16 kernels
// refuse to compile. With it, this Dawn build crashed (segmentation fault) on the H200 here, so it is opt-in.
const gpu = create(process.env.DAWN_F16 === '1' ? ['enable-dawn-features=vulkan_enable_f16_on_nvidia'] : []);
// Node 20 has no navigator; onnxruntime-web looks for navigator.gpu.
globalThis.navigator = { gpu, userAgent: 'node' };

const ort = await import(join(payload, 'ort', 'ort.webgpu.min.mjs'));
ort.env.logLevel = 'error';
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmBinary = readFileSync(join(payload, 'ort', 'ort-wasm-simd-threaded.asyncify.wasm'));
ort.env.wasm.wasmPaths = { mjs: join(payload, 'ort', 'ort-wasm-simd-threaded.asyncify.mjs') };

const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const result = {
  date: new Date().toISOString(),
  part,
  runtime: `node ${process.version}, onnxruntime-web ${ort.env.versions?.web ?? '?'}, Dawn (npm webgpu)`,
  adapter: adapter ? { ...adapter.info, features: [...adapter.features].sort() } : null,
  cases: [],
  matmul: [],
  errors: [],
};
console.log('adapter', JSON.stringify(result.adapter?.description ?? result.adapter));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const now = () => performance.now();
const B16_IMAGE_GFLOP = 32.7; // counted from the graph by bench/count_flops.py (BENCHMARKS.md)

async function session(path) {
  const started = now();
  const s = await ort.InferenceSession.create(readFileSync(path), {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
  });
  return { s, ms: now() - started };
}

function pixels(batch) {
  const data = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001);
  return new ort.Tensor('float32', data, [batch, 3, 224, 224]);
}

async function imageCase(dtype) {
  const { s, ms } = await session(join(modelsDir, `image.${dtype}.onnx`));
  const input = s.inputNames[0];
  const run = async (batch) => {
    const feeds = { [input]: pixels(batch) };
    const t = now();
    const out = await s.run(feeds);
    const values = out[s.outputNames[0]].data;
    if (!Number.isFinite(values[0])) throw new Error(`image ${dtype}: output is not finite`);
    return now() - t;
  };
  for (let i = 0; i < 3; i++) await run(1);
  const single = [];
  for (let i = 0; i < 20; i++) single.push(await run(1));
  await run(8);
  const eight = [];
  for (let i = 0; i < 5; i++) eight.push(await run(8));
  await s.release();
  const latency = median(single);
  return {
    sessionMs: ms,
    batch1MedianMs: latency,
    batch1MinMs: Math.min(...single),
    imagesPerSecondBatch8: 8000 / median(eight),
    achievedGflops: B16_IMAGE_GFLOP / (latency / 1000),
  };
}

async function textCase(dtype, prompts) {
  const { s, ms } = await session(join(modelsDir, `text.${dtype}.onnx`));
  const input = s.inputNames[0];
  const runBatches = async (padTo) => {
    const sorted = [...prompts].sort((a, b) => a.length - b.length);
    const started = now();
    for (let start = 0; start < sorted.length; start += 64) {
      const batch = sorted.slice(start, start + 64);
      const length = padTo ?? Math.max(...batch.map((ids) => ids.length));
      const data = new BigInt64Array(batch.length * length);
      batch.forEach((ids, row) => ids.forEach((id, col) => (data[row * length + col] = BigInt(id))));
      const out = await s.run({ [input]: new ort.Tensor('int64', data, [batch.length, length]) });
      if (!Number.isFinite(out[s.outputNames[0]].data[0]))
        throw new Error(`text ${dtype}: output is not finite`);
    }
    return now() - started;
  };
  await runBatches(null); // warm-up: shader compilation for each length
  const realMs = await runBatches(null);
  await runBatches(77);
  const paddedMs = await runBatches(77);
  await s.release();
  return {
    sessionMs: ms,
    classNamesRealLengthMs: realMs,
    classNamesPadded77Ms: paddedMs,
    paddedOverReal: paddedMs / realMs,
  };
}

const prompts = JSON.parse(readFileSync(join(payload, 'text_ids.json'), 'utf8'));
for (const dtype of ['fp16', 'q4'].filter((d) => d === part)) {
  const entry = { dtype };
  for (const [tower, fn] of [
    ['image', () => imageCase(dtype)],
    ['text', () => textCase(dtype, prompts)],
  ]) {
    try {
      entry[tower] = await fn();
      console.log(dtype, tower, JSON.stringify(entry[tower]));
    } catch (error) {
      entry[tower] = { error: String(error?.message ?? error) };
      result.errors.push(`${dtype} ${tower}: ${entry[tower].error}`);
      console.log(dtype, tower, 'failed', entry[tower].error);
    }
  }
  result.cases.push(entry);
  writeFileSync(outPath, JSON.stringify(result, null, 2));
}

for (const name of part === 'matmul' ? ['fp32', 'fp16', 'q4'] : []) {
  for (const shape of ['4096x4096x4096', '1576x768x3072']) {
    const path = join(modelsDir, `matmul.${name}.${shape}.onnx`);
    try {
      const [m, k, n] = shape.split('x').map(Number);
      const { s } = await session(path);
      const x = new ort.Tensor('float32', new Float32Array(m * k).fill(0.01), [m, k]);
      for (let i = 0; i < 3; i++) await s.run({ x });
      const times = [];
      for (let i = 0; i < 10; i++) {
        const t = now();
        await s.run({ x });
        times.push(now() - t);
      }
      await s.release();
      // 8 chained products per run (make_graphs.py), each 2·m·k·n FLOP.
      const gflops = (8 * 2 * m * k * n) / 1e9 / (median(times) / 1000);
      result.matmul.push({ kind: name, shape, medianMs: median(times), gflops });
      console.log('matmul', name, shape, gflops.toFixed(0), 'GFLOP/s');
    } catch (error) {
      result.errors.push(`matmul ${name} ${shape}: ${error?.message ?? error}`);
    }
  }
}
writeFileSync(outPath, JSON.stringify(result, null, 2));
console.log('done', result.errors.length, 'errors');
process.exit(0);
