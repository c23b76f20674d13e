/**
 * The peer (issue #19): transformers.js (`@huggingface/transformers`, a bench-only devDependency) on a random-weight
 * CLIP ViT-B/16 of the real shapes (built by `models/eva_lens/peer_clip.py`), in the same page and worker setup as
 * EVA Lens's cases. Two ways a person would use it, each in its own fresh worker:
 *
 * - `pipeline`: `pipeline('zero-shot-image-classification')`, called per image with labels (it runs the text tower
 *   on the labels at every call, as the pipeline does);
 * - `split`: `CLIPTextModelWithProjection` + `CLIPVisionModelWithProjection` with `AutoTokenizer` and
 *   `AutoProcessor`, labels embedded once.
 *
 * Nothing is fetched from outside: remote models are off, the model folder and transformers.js's own
 * onnxruntime-web build are served by the bench server, and its caches (Cache Storage for models and for the WASM
 * binary) are off so every case is a cold start like EVA Lens's.
 */
import { readMemory } from './memoryProbe';
import type { PeerCaseRequest, PeerCaseResult } from './protocol';
import { summarizeRuns, timeRuns } from './stats';

type Transformers = typeof import('@huggingface/transformers');

/** A deterministic 640×480 RGB picture (the pipeline resizes and crops it as it would a photo). */
function syntheticImage(lib: Transformers) {
  const width = 640;
  const height = 480;
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + Math.floor(i / 1931) * 11) % 256;
  return new lib.RawImage(data, width, height, 3);
}

async function loadTransformers(request: PeerCaseRequest): Promise<Transformers> {
  const lib = await import('@huggingface/transformers');
  const { env } = lib;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = request.modelsUrl;
  env.useBrowserCache = false;
  env.useWasmCache = false;
  const wasm = env.backends.onnx.wasm!;
  wasm.wasmPaths = {
    mjs: `${request.wasmPaths}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${request.wasmPaths}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  wasm.numThreads = request.threads;
  return lib;
}

export async function runPeerCase(request: PeerCaseRequest): Promise<PeerCaseResult> {
  const importStarted = performance.now();
  const lib = await loadTransformers(request);
  const importMs = performance.now() - importStarted;
  const options = { dtype: request.dtype, device: 'wasm' } as const;
  const image = syntheticImage(lib);
  const fill = (label: string) => request.template.replace('{}', label);
  const base = {
    kind: 'peer' as const,
    mode: request.mode,
    version: lib.env.version,
    ortVersion: lib.env.backends.onnx.versions?.web ?? null,
    dtype: request.dtype,
    threadsUsed: lib.env.backends.onnx.wasm?.numThreads ?? null,
    importMs,
  };

  if (request.mode === 'pipeline') {
    const loadStarted = performance.now();
    const classify = await lib.pipeline('zero-shot-image-classification', request.modelId, options);
    const loadMs = performance.now() - loadStarted;
    const afterLoad = readMemory();
    const fewLabels = request.labels.slice(0, request.perImageLabelCount);
    const run = (labels: string[]) => () =>
      classify(image, labels, { hypothesis_template: request.template });
    const firstStarted = performance.now();
    await run(fewLabels)();
    const firstRunMs = performance.now() - firstStarted;
    await timeRuns(request.warmupRuns, run(fewLabels));
    const perImage = summarizeRuns(await timeRuns(request.timedRuns, run(fewLabels)));
    const allStarted = performance.now();
    await run(request.labels)();
    const allLabelsMs = performance.now() - allStarted;
    return {
      ...base,
      loadMs,
      firstRunMs,
      perImage,
      perImageLabels: fewLabels.length,
      imageTowerOnly: null,
      labels: request.labels.length,
      allLabelsMs,
      memory: { afterLoad, afterRuns: readMemory() },
    };
  }

  const loadStarted = performance.now();
  const [tokenizer, processor, textModel, visionModel] = await Promise.all([
    lib.AutoTokenizer.from_pretrained(request.modelId),
    lib.AutoProcessor.from_pretrained(request.modelId),
    lib.CLIPTextModelWithProjection.from_pretrained(request.modelId, options),
    lib.CLIPVisionModelWithProjection.from_pretrained(request.modelId, options),
  ]);
  const loadMs = performance.now() - loadStarted;
  const afterLoad = readMemory();
  const embedImage = async () => {
    const inputs = (await processor(image)) as Record<string, unknown>;
    return visionModel(inputs);
  };
  const firstStarted = performance.now();
  await embedImage();
  const firstRunMs = performance.now() - firstStarted;
  await timeRuns(request.warmupRuns, embedImage);
  const perImage = summarizeRuns(await timeRuns(request.timedRuns, embedImage));
  // The tower alone, on pixels already prepared (what EVA Lens's per-image row times).
  const pixels = (await processor(image)) as Record<string, unknown>;
  const imageTowerOnly = summarizeRuns(await timeRuns(request.timedRuns, () => visionModel(pixels)));
  // All labels in one call, as transformers.js's examples embed a list (padded to the longest prompt).
  const allStarted = performance.now();
  const textInputs = tokenizer(request.labels.map(fill), { padding: true, truncation: true }) as Record<
    string,
    unknown
  >;
  await textModel(textInputs);
  const allLabelsMs = performance.now() - allStarted;
  return {
    ...base,
    loadMs,
    firstRunMs,
    perImage,
    perImageLabels: 0,
    imageTowerOnly,
    labels: request.labels.length,
    allLabelsMs,
    memory: { afterLoad, afterRuns: readMemory() },
  };
}
