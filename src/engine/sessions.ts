/**
 * ONNX Runtime sessions for the two towers: creation on exactly one execution provider, the manifest probe that
 * proves a backend computes the right numbers, and the walk down the candidate list until one passes.
 */
import type { InferenceSession } from 'onnxruntime-web';
import type { BackendCandidate, OrtLoader, OrtModule } from './backend';
import { BackendError, ModelFileError, describeError } from './errors';
import type { Backend, Dtype, ManifestFile, ModelManifest } from './manifest';
import { probePixelValues } from './probe';
import { cosineSimilarity } from './ranking';
import type { SerialQueue } from './serialQueue';

/** The image and text sessions of one variant on one backend. */
export interface ModelSessions {
  ort: OrtModule;
  backend: Backend;
  dtype: Dtype;
  image: InferenceSession;
  text: InferenceSession;
}

export interface ProbeCosine {
  image: number;
  text: number;
}

const BACKEND_NAMES: Record<Backend, string> = { webgpu: 'WebGPU', wasm: 'WASM' };

/** 'WebGPU fp16', 'WASM int8'… for messages. */
export function describeCandidate(candidate: { backend: Backend; variant: { dtype: Dtype } }): string {
  return `${BACKEND_NAMES[candidate.backend]} ${candidate.variant.dtype}`;
}

/** Creates both sessions with one execution provider (no silent fallback inside ORT) and full graph optimisation. */
export async function createSessions(
  ort: OrtModule,
  backend: Backend,
  dtype: Dtype,
  imageModel: Uint8Array,
  textModel: Uint8Array,
): Promise<ModelSessions> {
  const options: InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  };
  const image = await ort.InferenceSession.create(imageModel, options);
  try {
    const text = await ort.InferenceSession.create(textModel, options);
    return { ort, backend, dtype, image, text };
  } catch (error) {
    await image.release();
    throw error;
  }
}

export async function releaseSessions(sessions: ModelSessions): Promise<void> {
  await Promise.allSettled([sessions.image.release(), sessions.text.release()]);
}

/** Runs the image tower on `batch` CHW images of side `size`: `[batch × D]` raw embeddings. */
export async function runImageTower(
  sessions: ModelSessions,
  pixels: Float32Array,
  batch: number,
  size: number,
): Promise<Float32Array> {
  const { ort, image } = sessions;
  const input = new ort.Tensor('float32', pixels, [batch, 3, size, size]);
  const outputs = await image.run({ [image.inputNames[0]!]: input });
  return readFloatOutput(outputs, image.outputNames[0]!, input);
}

/** Runs the text tower on `[batch × seqLen]` token ids: `[batch × D]` raw embeddings. */
export async function runTextTower(
  sessions: ModelSessions,
  inputIds: BigInt64Array,
  batch: number,
  seqLen: number,
): Promise<Float32Array> {
  const { ort, text } = sessions;
  const input = new ort.Tensor('int64', inputIds, [batch, seqLen]);
  const outputs = await text.run({ [text.inputNames[0]!]: input });
  return readFloatOutput(outputs, text.outputNames[0]!, input);
}

function readFloatOutput(
  outputs: InferenceSession.ReturnType,
  name: string,
  input: { dispose(): void },
): Float32Array {
  input.dispose();
  const tensor = outputs[name];
  if (!tensor || tensor.type !== 'float32')
    throw new BackendError(`The model's output '${name}' is missing or not float32.`);
  // getData copies out of GPU memory when needed; the tensor is then freed.
  const data = tensor.data as Float32Array;
  const copy = new Float32Array(data);
  tensor.dispose();
  return copy;
}

/** Cosines of the backend's probe embeddings to the manifest's fp32 PyTorch ones (NaN output counts as −1). */
export async function runProbe(
  sessions: ModelSessions,
  manifest: ModelManifest,
  queue: SerialQueue,
): Promise<ProbeCosine> {
  const size = manifest.image.size;
  const imageEmbedding = await queue.run(() => runImageTower(sessions, probePixelValues(size), 1, size));
  const ids = BigInt64Array.from(manifest.probe.textInputIds, (id) => BigInt(id));
  const textEmbedding = await queue.run(() => runTextTower(sessions, ids, 1, ids.length));
  const finiteOr = (c: number) => (Number.isFinite(c) ? c : -1);
  return {
    image: finiteOr(cosineSimilarity(imageEmbedding, manifest.probe.imageEmbedding)),
    text: finiteOr(cosineSimilarity(textEmbedding, manifest.probe.textEmbedding)),
  };
}

export interface OpenSessionsOptions {
  candidates: readonly BackendCandidate[];
  manifest: ModelManifest;
  ortLoader: OrtLoader;
  queue: SerialQueue;
  /** Downloads (or returns already downloaded) verified bytes of a model file. */
  modelBytes(file: ManifestFile): Promise<Uint8Array>;
  onStage?(stage: 'session' | 'probe', candidateIndex: number, candidateCount: number): void;
}

export interface OpenSessionsResult {
  sessions: ModelSessions;
  probeCosine: ProbeCosine;
  /** One sentence per candidate that was tried and not used. */
  fallbackNotes: string[];
}

/**
 * Tries the candidates in order and keeps the first whose sessions start and pass the probe
 * (cosine ≥ `variant.minProbeCosine` for both towers). Failed sessions are released before the next try.
 * @throws ModelFileError when every candidate failed on its files; BackendError otherwise.
 */
export async function openFirstWorkingCandidate(options: OpenSessionsOptions): Promise<OpenSessionsResult> {
  const { candidates, manifest, ortLoader, queue } = options;
  const fallbackNotes: string[] = [];
  const fileErrors: ModelFileError[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const name = describeCandidate(candidate);
    const { variant } = candidate;
    let sessions: ModelSessions;
    try {
      const imageBytes = await options.modelBytes(variant.imageModel);
      const textBytes = await options.modelBytes(variant.textModel);
      options.onStage?.('session', index, candidates.length);
      const ort = await ortLoader.load(candidate.backend);
      sessions = await createSessions(ort, candidate.backend, variant.dtype, imageBytes, textBytes);
    } catch (error) {
      if (error instanceof ModelFileError) fileErrors.push(error);
      fallbackNotes.push(`${name} could not start (${describeError(error)}).`);
      continue;
    }
    try {
      options.onStage?.('probe', index, candidates.length);
      const probeCosine = await runProbe(sessions, manifest, queue);
      const worst = Math.min(probeCosine.image, probeCosine.text);
      if (worst >= variant.minProbeCosine) return { sessions, probeCosine, fallbackNotes };
      fallbackNotes.push(
        `${name} failed the probe (cosine image ${probeCosine.image.toFixed(4)}, text ${probeCosine.text.toFixed(4)}; ` +
          `needs ${variant.minProbeCosine}).`,
      );
    } catch (error) {
      fallbackNotes.push(`${name} failed while running the probe (${describeError(error)}).`);
    }
    await queue.run(() => releaseSessions(sessions));
  }
  if (fileErrors.length > 0 && fileErrors.length === candidates.length) throw fileErrors[0]!;
  const tried = fallbackNotes.length > 0 ? ` ${fallbackNotes.join(' ')}` : '';
  throw new BackendError(`No backend could run this model.${tried}`);
}
