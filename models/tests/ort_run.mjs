// Runs one ONNX model in onnxruntime-web (WASM backend) under Node, for the Python toolchain and its tests.
//
// Python has no onnxruntime, and the app runs onnxruntime-web anyway, so the Python side (models/eva_lens/ort_node.py)
// checks graphs with the very kernels the browser's WASM fallback uses. Tensors cross as raw little-endian files plus
// a JSON spec, which avoids a JSON round trip of millions of floats and keeps float16/int64 bit-exact.
//
// Usage: node models/tests/ort_run.mjs <spec.json>
// spec.json:
//   { "model": "/abs/model.onnx", "threads": 1, "warmup": 0, "repeats": 1, "outputDir": "/abs/dir",
//     "inputSets": [ [ { "name": "x", "dtype": "float32", "dims": [2, 3], "file": "/abs/in_0_0.bin" } ], ... ] }
// Writes <outputDir>/result.json:
//   { "ok": true, "ortVersion": "1.30.0", "threads": 1, "sessionCreateMs": 12.3,
//     "inputNames": [...], "outputNames": [...],
//     "runs": [ { "runMs": [..one per repeat..], "outputs": [ { "name", "dtype", "dims", "file" } ] } ] }
// or, on failure, { "ok": false, "stage": "load" | "create" | "input" | "run" | "output", "error": "<ORT message>" }
// and exits with status 1 (2 for a bad command line).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Typed-array constructors for the dtypes the toolchain exchanges; float16 travels as its raw uint16 bits. */
const TYPED_ARRAYS = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

const specPath = process.argv[2];
if (!specPath) {
  process.stderr.write('usage: node models/tests/ort_run.mjs <spec.json>\n');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
mkdirSync(spec.outputDir, { recursive: true });
const resultPath = join(spec.outputDir, 'result.json');

/** Records the failure where Python looks for it, then exits non-zero. */
function fail(stage, err) {
  const message = err instanceof Error ? err.message : String(err);
  writeFileSync(resultPath, JSON.stringify({ ok: false, stage, error: message }));
  process.stderr.write(`ort_run ${stage} failed: ${message}\n`);
  process.exit(1);
}

/** Reads one raw input file into a tensor of the declared dtype and dims. */
function readTensor(ort, desc) {
  const ArrayType = TYPED_ARRAYS[desc.dtype];
  if (!ArrayType) throw new Error(`input '${desc.name}': unsupported dtype '${desc.dtype}'`);
  const bytes = readFileSync(desc.file);
  const count = desc.dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * ArrayType.BYTES_PER_ELEMENT) {
    throw new Error(
      `input '${desc.name}': file has ${bytes.byteLength} bytes, dims ${desc.dims} need ${count * ArrayType.BYTES_PER_ELEMENT}`,
    );
  }
  // Copy into a fresh, aligned buffer: Buffer slices may share a pool at an unaligned offset.
  const data = new ArrayType(count);
  new Uint8Array(data.buffer).set(bytes);
  return new ort.Tensor(desc.dtype, desc.dtype === 'bool' ? new Uint8Array(data.buffer) : data, desc.dims);
}

/** Writes every output tensor as raw bytes and returns its description. */
function writeOutputs(outputs, setIndex) {
  return Object.entries(outputs).map(([name, tensor], outIndex) => {
    if (!(tensor.type in TYPED_ARRAYS))
      throw new Error(`output '${name}': unsupported dtype '${tensor.type}'`);
    const file = join(spec.outputDir, `out_${setIndex}_${outIndex}.bin`);
    const view = tensor.data;
    writeFileSync(file, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    return { name, dtype: tensor.type, dims: Array.from(tensor.dims), file };
  });
}

let ort;
try {
  // The package's Node entry (dist/ort.node.min.mjs): the same WASM CPU kernels as the browser's wasm backend.
  ort = await import('onnxruntime-web');
} catch (err) {
  fail(
    'load',
    `cannot import onnxruntime-web (run \`npm install\` in the repo root): ${err?.message ?? err}`,
  );
}

const threads = spec.threads ?? 1;
ort.env.wasm.numThreads = threads;
ort.env.logLevel = 'error';

let session;
const createStart = performance.now();
try {
  session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: spec.graphOptimizationLevel ?? 'all',
    logSeverityLevel: 3,
  });
} catch (err) {
  fail('create', err);
}
const sessionCreateMs = performance.now() - createStart;

const runs = [];
for (const [setIndex, inputSet] of spec.inputSets.entries()) {
  let feeds;
  try {
    const given = inputSet.map((desc) => desc.name);
    const unknown = given.filter((name) => !session.inputNames.includes(name));
    const missing = session.inputNames.filter((name) => !given.includes(name));
    if (unknown.length || missing.length) {
      throw new Error(
        `inputs do not match the model: unknown [${unknown.join(', ')}], missing [${missing.join(', ')}]; ` +
          `the model expects [${session.inputNames.join(', ')}]`,
      );
    }
    feeds = Object.fromEntries(inputSet.map((desc) => [desc.name, readTensor(ort, desc)]));
  } catch (err) {
    fail('input', err);
  }
  let outputs;
  const runMs = [];
  try {
    for (let i = 0; i < (spec.warmup ?? 0); i++) await session.run(feeds);
    for (let i = 0; i < (spec.repeats ?? 1); i++) {
      const start = performance.now();
      outputs = await session.run(feeds);
      runMs.push(performance.now() - start);
    }
  } catch (err) {
    fail('run', err);
  }
  try {
    runs.push({ runMs, outputs: writeOutputs(outputs, setIndex) });
  } catch (err) {
    fail('output', err);
  }
}

writeFileSync(
  resultPath,
  JSON.stringify({
    ok: true,
    ortVersion: ort.env.versions?.web ?? null,
    threads,
    sessionCreateMs,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    runs,
  }),
);
await session.release();
// Worker threads of a multi-threaded WASM build would otherwise keep Node alive.
process.exit(0);
