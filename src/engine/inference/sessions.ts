/**
 * ONNX Runtime sessions for the two towers: creation on exactly one execution provider, the manifest probe that
 * proves a backend computes the right numbers, and the walk down the candidate list until one passes.
 */
import type { InferenceSession } from 'onnxruntime-web';
import type { BackendCandidate, OrtLoader, OrtModule } from './backend';
import { BackendError, ModelFileError, describeError } from '../../core/errors';
import type { Backend, Dtype, ManifestFile, ModelManifest } from '../../core/manifest';
import { probePixelValues } from './probe';
import { cosineSimilarity } from '../../core/ranking';
import type { BytesBeingChecked } from '../library/modelFiles';
import type { SerialQueue } from './serialQueue';
import { StageTimings } from './stageTimings';

/** The image tower of one variant on one backend: what the engine opens first (images need nothing else). */
export interface ImageTower {
  ort: OrtModule;
  backend: Backend;
  dtype: Dtype;
  image: InferenceSession;
}

/** The text tower of the same variant, opened when labels first need it (see zeroShotEngine.ts). */
export interface TextTower {
  ort: OrtModule;
  text: InferenceSession;
  probeCosine: number;
}

/** Both sessions of one variant on one backend. */
export interface ModelSessions extends ImageTower {
  text: InferenceSession;
}

export interface ProbeCosine {
  image: number;
  text: number;
}

/** What onnxruntime-web and WebAssembly say when a session does not fit in memory. */
const OUT_OF_MEMORY =
  /out of memory|could not allocate|failed to allocate|allocation failed|bad_alloc|memory access out of bounds|Array buffer allocation/i;

/**
 * A sentence for a session that ran out of memory: which smaller download would fit. (The next candidate is tried
 * anyway; the sentence tells the person what to download if none fits.)
 */
export function memoryHint(error: unknown, dtype: Dtype): string {
  const isOutOfMemory = error instanceof RangeError || OUT_OF_MEMORY.test(describeError(error));
  if (!isOutOfMemory) return '';
  const smaller = { fp32: 'int8 or q4', fp16: 'int8 or q4', int8: 'q4', q4: 'a smaller model' }[dtype];
  return ` It ran out of memory: close other tabs, or choose ${smaller} in Models, which needs less.`;
}

/** ORT's words for an input the graph was not made for. */
const SHAPE_MISMATCH =
  /invalid dimensions|invalid rank|shape mismatch|input dimension|Got: \d+ Expected: \d+/i;

/** A sentence for a graph that refuses the input its manifest describes: the files are for another model. */
export function shapeHint(error: unknown, manifest: ModelManifest): string {
  if (!SHAPE_MISMATCH.test(describeError(error))) return '';
  const size = manifest.image.size;
  return (
    ` The graph does not take the input its manifest describes (3 × ${size} × ${size} pixels for ` +
    `${manifest.architecture}): the files belong to another model or architecture. Export or download the model again.`
  );
}

/** A cosine for the probe check: NaN output counts as −1, so it always fails. */
function finiteOr(cosine: number): number {
  return Number.isFinite(cosine) ? cosine : -1;
}

const BACKEND_NAMES: Record<Backend, string> = { webgpu: 'WebGPU', wasm: 'WASM' };

/** 'WebGPU fp16', 'WASM int8'… for messages. */
export function describeCandidate(candidate: { backend: Backend; variant: { dtype: Dtype } }): string {
  return `${BACKEND_NAMES[candidate.backend]} ${candidate.variant.dtype}`;
}

/** One tower's session on exactly one execution provider (no silent fallback inside ORT), full graph optimisation. */
export function createTowerSession(
  ort: OrtModule,
  backend: Backend,
  modelBytes: Uint8Array,
): Promise<InferenceSession> {
  return ort.InferenceSession.create(modelBytes, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
}

/** Creates both sessions (the benchmark's cold start; the engine opens the text tower only when it is needed). */
export async function createSessions(
  ort: OrtModule,
  backend: Backend,
  dtype: Dtype,
  imageModel: Uint8Array,
  textModel: Uint8Array,
): Promise<ModelSessions> {
  const image = await createTowerSession(ort, backend, imageModel);
  try {
    const text = await createTowerSession(ort, backend, textModel);
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
  sessions: Pick<ImageTower, 'ort' | 'image'>,
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
  sessions: Pick<ModelSessions, 'ort' | 'text'>,
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

/** Cosine of the backend's probe image embedding to the manifest's fp32 PyTorch one. */
export async function runImageProbe(
  tower: Pick<ImageTower, 'ort' | 'image'>,
  manifest: ModelManifest,
  queue: SerialQueue,
): Promise<number> {
  const size = manifest.image.size;
  const embedding = await queue.run(() => runImageTower(tower, probePixelValues(size), 1, size));
  return finiteOr(cosineSimilarity(embedding, manifest.probe.imageEmbedding));
}

/** Cosine of the backend's probe text embedding to the manifest's fp32 PyTorch one. */
export async function runTextProbe(
  tower: Pick<ModelSessions, 'ort' | 'text'>,
  manifest: ModelManifest,
  queue: SerialQueue,
): Promise<number> {
  const ids = BigInt64Array.from(manifest.probe.textInputIds, (id) => BigInt(id));
  const embedding = await queue.run(() => runTextTower(tower, ids, 1, ids.length));
  return finiteOr(cosineSimilarity(embedding, manifest.probe.textEmbedding));
}

export interface OpenImageTowerOptions {
  candidates: readonly BackendCandidate[];
  manifest: ModelManifest;
  ortLoader: OrtLoader;
  queue: SerialQueue;
  /** Downloads (or reads from storage) a model file; its check may still be running (see ModelFiles). */
  modelBytes(file: ManifestFile): Promise<BytesBeingChecked>;
  onStage?(stage: 'session' | 'probe', candidateIndex: number, candidateCount: number): void;
  /** Receives the milliseconds of each step (reading the file, starting the runtime, the session, the probe). */
  timings?: StageTimings;
  /**
   * Remembered probe passes (see probeRecordKey): a WASM tower that passed on this browser and runtime version is
   * not probed again — WebAssembly computes the same numbers from the same bytes, and the probe's run costs a
   * full image (~0.4 s for B/16). WebGPU is probed on every load: a driver can change under the same browser.
   */
  probePasses?: {
    get(key: string): Promise<number | null>;
    put(key: string, cosine: number): Promise<void>;
  };
}

/** Names a probe pass: the image graph's bytes, the backend, onnxruntime-web's version and the browser. */
export function probeRecordKey(candidate: BackendCandidate, ortVersion: string, userAgent: string): string {
  return JSON.stringify([candidate.variant.imageModel.sha256, candidate.backend, ortVersion, userAgent]);
}

export interface OpenImageTowerResult {
  tower: ImageTower;
  candidate: BackendCandidate;
  probeCosine: number;
  /** The probe was not run: this tower passed it on an earlier load (probePasses). */
  probeRemembered: boolean;
  /** One sentence per candidate that was tried and not used. */
  fallbackNotes: string[];
}

/**
 * Tries the candidates in order and keeps the first whose image session starts and passes the probe (cosine ≥
 * `variant.minProbeCosine`). Failed sessions are released before the next try. The image tower goes first because
 * a person's first result needs it and, with label embeddings remembered from an earlier visit, nothing else.
 * @throws ModelFileError when every candidate failed on its files; BackendError otherwise.
 */
export async function openFirstWorkingImageTower(
  options: OpenImageTowerOptions,
): Promise<OpenImageTowerResult> {
  const { candidates, manifest, ortLoader, queue } = options;
  const timings = options.timings ?? new StageTimings();
  const fallbackNotes: string[] = [];
  const fileErrors: ModelFileError[] = [];
  for (const [index, candidate] of candidates.entries()) {
    const name = describeCandidate(candidate);
    const { variant, backend } = candidate;
    let tower: ImageTower;
    try {
      const { bytes, checked } = await timings.time('readImageModel', () =>
        options.modelBytes(variant.imageModel),
      );
      options.onStage?.('session', index, candidates.length);
      const ort = await timings.time('runtime', () => ortLoader.start(backend));
      const image = await timings
        .time('imageSession', () => createTowerSession(ort, backend, bytes))
        .catch(async (error: unknown) => {
          // Damaged bytes often fail in ORT's parser first: the checksum's message says what really happened.
          await checked;
          throw error;
        });
      tower = { ort, backend, dtype: variant.dtype, image };
      try {
        await timings.time('checksumWait', () => checked);
      } catch (error) {
        await queue.run(() => image.release());
        throw error;
      }
    } catch (error) {
      if (error instanceof ModelFileError) fileErrors.push(error);
      fallbackNotes.push(
        `${name} could not start (${describeError(error)}).${memoryHint(error, variant.dtype)}`,
      );
      continue;
    }
    try {
      options.onStage?.('probe', index, candidates.length);
      const recordKey = probeRecordKey(
        candidate,
        tower.ort.env.versions?.web ?? 'unknown',
        globalThis.navigator?.userAgent ?? 'unknown',
      );
      const remembered = backend === 'wasm' ? await options.probePasses?.get(recordKey) : null;
      if (remembered != null && remembered >= variant.minProbeCosine)
        return { tower, candidate, probeCosine: remembered, fallbackNotes, probeRemembered: true };
      const probeCosine = await timings.time('imageProbe', () => runImageProbe(tower, manifest, queue));
      if (probeCosine >= variant.minProbeCosine) {
        await options.probePasses?.put(recordKey, probeCosine);
        return { tower, candidate, probeCosine, fallbackNotes, probeRemembered: false };
      }
      fallbackNotes.push(
        `${name} failed the probe (image cosine ${probeCosine.toFixed(4)}; needs ${variant.minProbeCosine}).`,
      );
    } catch (error) {
      fallbackNotes.push(
        `${name} failed while running the probe (${describeError(error)}).${shapeHint(error, manifest)}`,
      );
    }
    await queue.run(() => tower.image.release());
  }
  if (fileErrors.length > 0 && fileErrors.length === candidates.length) throw fileErrors[0]!;
  const tried = fallbackNotes.length > 0 ? ` ${fallbackNotes.join(' ')}` : '';
  throw new BackendError(`No backend could run this model.${tried}`);
}

/**
 * Opens the text tower of the variant whose image tower is in use, on the same runtime, and checks it with the
 * manifest's text probe.
 * @throws BackendError when it fails the probe (the session is released); ModelFileError for a bad file.
 */
export async function openTextTower(options: {
  tower: ImageTower;
  candidate: BackendCandidate;
  manifest: ModelManifest;
  queue: SerialQueue;
  textModelBytes: Uint8Array;
}): Promise<TextTower> {
  const { tower, candidate, manifest, queue } = options;
  const { ort, backend } = tower;
  const text = await queue.run(() => createTowerSession(ort, backend, options.textModelBytes));
  let probeCosine: number;
  try {
    probeCosine = await runTextProbe({ ort, text }, manifest, queue);
  } catch (error) {
    await queue.run(() => text.release());
    throw new BackendError(
      `The text tower (${describeCandidate(candidate)}) failed while running its probe (${describeError(error)}).`,
    );
  }
  const needed = candidate.variant.minProbeCosine;
  if (probeCosine < needed) {
    await queue.run(() => text.release());
    throw new BackendError(
      `The text tower (${describeCandidate(candidate)}) failed its probe (cosine ${probeCosine.toFixed(4)}; needs ` +
        `${needed}), so labels cannot be embedded on this backend. Choose another backend in the status bar.`,
    );
  }
  return { ort, text, probeCosine };
}
