/**
 * Builds a runnable model from the official weights on the model hub, in the browser (issue #9): download the
 * checkpoint (resumable), check it against the recipe, fill the recipe's graph skeletons with its tensors (convert
 * and quantize, one tensor at a time), store the ONNX files, verify them on a probe input, and only then write the
 * manifest — so a model is listed only when it works, and a failure leaves every other model as it was.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { OrtModule } from '../inference/backend';
import { CancelledError, ModelFileError, describeError } from '../../core/errors';
import type { Dtype, ManifestFile, ManifestVariant, ModelManifest } from '../../core/manifest';
import { sha256Hex } from '../library/manifestLoader';
import type { RangeFetch } from '../library/modelDownload';
import type { ModelStore, StoredModel } from '../storage/modelStore';
import { validateManifest } from '../library/manifestValidation';
import { probePixelValues } from '../inference/probe';
import { cosineSimilarity } from '../../core/ranking';
import { createTowerSession, runImageTower, runTextTower } from '../inference/sessions';
import { putCompleteManifest } from '../storage/storedManifest';
import { assembleOutputs, BuildStepError } from './assemble';
import {
  checkCheckpoint,
  checkpointSource,
  readCheckpointHeader,
  readScalar,
  type BlobLike,
} from './checkpointSource';
import { downloadHubFile } from './hubDownload';
import { validateRecipe, type HubRecipe, type RecipeOutput } from './recipe';
import { checkStoredModel } from './semanticCheck';

export type HubBuildStage = 'download' | 'convert' | 'quantize' | 'verify' | 'store';

export interface HubBuildProgress {
  stage: HubBuildStage;
  /** The file or tensor being worked on. */
  file: string;
  loaded: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number | null;
}

export interface HubBuildParams {
  /** Absolute URL of the architecture's recipe.json (served with the app). */
  recipeUrl: string;
  /** The hub's base URL, e.g. https://huggingface.co. */
  hubBaseUrl: string;
  /** The dtypes to build (those the recipe has). */
  dtypes: Dtype[];
}

export interface HubBuildDeps {
  store: ModelStore;
  fetch: RangeFetch;
  /** onnxruntime-web for the probe (WASM). */
  importOrt: () => Promise<OrtModule>;
  now?: () => number;
  /** Most bytes of finished files built in one pass over the checkpoint (default MAX_PASS_BYTES). */
  maxPassBytes?: number;
  /** How the download waits before a retry (tests pass a fake clock); default setTimeout. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Files built in one pass over the checkpoint share each tensor read (B/16: a tower's int8 and q4 together, 178 MB);
 * above this the outputs are built in several passes, so that L/14's image tower (int8 316 MB + q4 294 MB) never
 * sits in memory twice over.
 */
export const MAX_PASS_BYTES = 400_000_000;

/** Outputs grouped into passes: one tower per pass, as many of its files as fit in `maxBytes` (at least one). */
export function passes(outputs: readonly RecipeOutput[], maxBytes: number): RecipeOutput[][] {
  const groups: RecipeOutput[][] = [];
  for (const output of outputs) {
    const last = groups.at(-1);
    const bytes = last?.reduce((sum, o) => sum + o.bytes, 0) ?? 0;
    if (last && last[0]!.tower === output.tower && bytes + output.bytes <= maxBytes) last.push(output);
    else groups.push([output]);
  }
  return groups;
}

/** Where the downloaded checkpoint is kept until the build succeeds (a folder of its own, deleted afterwards). */
export function checkpointStoreId(modelId: string): string {
  return `${modelId}--checkpoint`;
}

/** Words for the steps, as the page names them in progress and in errors. */
export const STEP_NAMES: Record<HubBuildStage, string> = {
  download: 'Downloading',
  convert: 'Converting',
  quantize: 'Quantizing',
  verify: 'Verifying',
  store: 'Storing',
};

/** Agreement the unverified dtypes need with the reference build when the checkpoint is not known. */
const MIN_AGREEMENT = 0.9;

/** Progress of the verify step's parts (no bytes, no rate). */
const VERIFY_PROGRESS = { stage: 'verify', bytesPerSecond: 0, secondsLeft: null } as const;

export async function fetchRecipe(recipeUrl: string, fetchFn: RangeFetch): Promise<HubRecipe> {
  let response: Response;
  try {
    response = await fetchFn(recipeUrl);
  } catch (error) {
    throw new ModelFileError(`Could not load the build recipe ${recipeUrl} (${describeError(error)}).`);
  }
  if (!response.ok)
    throw new ModelFileError(`Could not load the build recipe ${recipeUrl} (HTTP ${response.status}).`);
  return validateRecipe(await response.json(), recipeUrl);
}

export async function buildFromHub(
  params: HubBuildParams,
  deps: HubBuildDeps,
  onProgress: (progress: HubBuildProgress) => void,
  signal?: AbortSignal,
  recipe?: HubRecipe,
): Promise<StoredModel> {
  const now = deps.now ?? (() => performance.now());
  const started = now();
  const plan = recipe ?? (await fetchRecipe(params.recipeUrl, deps.fetch));
  const modelId = plan.manifest.id;
  const dtypes = params.dtypes.filter((d) => plan.outputs.some((o) => o.dtype === d));
  if (dtypes.length === 0)
    throw new ModelFileError(
      `The recipe for ${plan.manifest.name} builds none of ${params.dtypes.join(', ')}.`,
    );
  const storeId = checkpointStoreId(modelId);

  // The download checks the file against the sha256 the hub lists (when it can read one) before keeping it, and
  // hashes it either way, so the checkpoint is known by its digest before conversion.
  const { blob, sha256: downloadedSha256 } = await inStep('download', async () => {
    const { sha256 } = await downloadHubFile(params.hubBaseUrl, plan.hub, deps.store, storeId, deps.fetch, {
      onProgress,
      now,
      ...(signal ? { signal } : {}),
      ...(deps.wait ? { wait: deps.wait } : {}),
    });
    return { blob: await deps.store.readFile(storeId, plan.hub.file), sha256 };
  });
  const { header, digest } = await inStep('convert', async () => {
    const header = await readCheckpointHeader(blob, plan.hub.file);
    checkCheckpoint(header, plan, plan.hub.file);
    return { header, digest: downloadedSha256 ?? (await hashBlob(blob, signal)) };
  });
  const source = checkpointSource(blob, header);
  const downloaded = now();

  try {
    const tokenizer = await inStep('download', () =>
      storeFetched(plan.tokenizer, params.recipeUrl, modelId, deps),
    );
    const files = new Map<string, ManifestFile>();
    const wanted = plan.outputs.filter((o) => dtypes.includes(o.dtype));
    for (const outputs of passes(wanted, deps.maxPassBytes ?? MAX_PASS_BYTES)) {
      const tower = outputs.map((o) => `${o.tower}.${o.dtype}`).join(' + ');
      const skeletons = await inStep('download', () =>
        Promise.all(outputs.map((o) => fetchChecked(o.skeleton, params.recipeUrl, deps.fetch))),
      );
      const built = await assembleOutputs(
        outputs,
        skeletons,
        source,
        (p) =>
          onProgress({
            stage: p.stage,
            file: `${tower}: ${p.tensor}`,
            loaded: p.done,
            total: p.total,
            bytesPerSecond: 0,
            secondsLeft: null,
          }),
        signal,
      ).catch((error: unknown) => {
        if (error instanceof BuildStepError) throw stepError(error.step, error);
        throw error;
      });
      for (const [i, output] of outputs.entries()) {
        const path = `${output.tower}.${output.dtype}.onnx`;
        onProgress({
          stage: 'store',
          file: path,
          loaded: 0,
          total: built[i]!.length,
          bytesPerSecond: 0,
          secondsLeft: null,
        });
        files.set(path, await inStep('store', () => storeBytes(deps.store, modelId, path, built[i]!)));
        built[i] = new Uint8Array(0); // let the buffer go before the next one is written
      }
    }
    const logitScale = Math.fround(Math.exp(await readScalar(source, plan.logitScaleTensor)));
    const built = now();
    const manifest = await inStep('verify', () =>
      verifiedManifest(plan, dtypes, files, tokenizer, logitScale, digest, deps, onProgress),
    );
    const verified = now();
    // A checkpoint the toolchain has no record of only proved that int8 and q4 agree with each other: ask the
    // model about a few drawn pictures too. A model that answers them badly is still stored, marked with a warning.
    if (!plan.knownProbes.some((k) => k.checkpointSha256 === digest)) {
      manifest.semanticCheck = await inStep('verify', async () => {
        onProgress({ ...VERIFY_PROGRESS, file: 'test images', loaded: 0, total: 1 });
        const check = await checkStoredModel(
          await deps.importOrt(),
          deps.store,
          manifest,
          dtypes[0]!,
          signal,
        );
        onProgress({ ...VERIFY_PROGRESS, file: 'test images', loaded: 1, total: 1 });
        return check;
      });
    }
    const seconds = (ms: number) => Math.round(ms / 100) / 10;
    // How long each step took on this device (the download includes hashing and checking the checkpoint).
    manifest.metrics = {
      ...manifest.metrics,
      downloadSeconds: seconds(downloaded - started),
      convertAndQuantizeSeconds: seconds(built - downloaded),
      verifySeconds: seconds(verified - built),
      ...(manifest.semanticCheck ? { semanticCheckSeconds: seconds(now() - verified) } : {}),
    };
    const stored = await putCompleteManifest(deps.store, manifest);
    await deps.store.delete(storeId).catch(() => undefined);
    return stored;
  } catch (error) {
    // What was built is of no use without a manifest; the downloaded checkpoint stays for a retry.
    if (!(error instanceof CancelledError)) await deps.store.delete(modelId).catch(() => undefined);
    throw error;
  }

  async function inStep<T>(stage: HubBuildStage, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw stepError(stage, error);
    }
  }
}

/** The error with the step in front ("Converting failed: …"), keeping cancels and the error's class. */
function stepError(stage: HubBuildStage, error: unknown): Error {
  if (error instanceof CancelledError) return error;
  const prefix = `${STEP_NAMES[stage]} failed: `;
  const message = describeError(error);
  if (message.startsWith(prefix)) return error as Error;
  if (error instanceof Error && error.name !== 'Error' && error.name !== 'BuildStepError') {
    error.message = prefix + error.message;
    return error;
  }
  return new ModelFileError(prefix + message);
}

/** SHA-256 of a stored file, read in slices (the whole checkpoint never sits in memory). */
async function hashBlob(blob: BlobLike, signal?: AbortSignal): Promise<string> {
  const hash = sha256.create();
  const chunk = 16 << 20;
  for (let at = 0; at < blob.size; at += chunk) {
    if (signal?.aborted) throw new CancelledError('The build was cancelled; the download is kept.');
    hash.update(new Uint8Array(await blob.slice(at, Math.min(blob.size, at + chunk)).arrayBuffer()));
  }
  return Array.from(hash.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchChecked(file: ManifestFile, baseUrl: string, fetchFn: RangeFetch): Promise<Uint8Array> {
  const url = new URL(file.path, baseUrl).href;
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new ModelFileError(`Could not load ${url} (${describeError(error)}).`);
  }
  if (!response.ok) throw new ModelFileError(`Could not load ${url} (HTTP ${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== file.bytes || (await sha256Hex(bytes)) !== file.sha256) {
    throw new ModelFileError(
      `${url} is not the file the recipe expects (size or checksum differs). Reload the app.`,
    );
  }
  return bytes;
}

async function storeFetched(
  file: ManifestFile,
  baseUrl: string,
  modelId: string,
  deps: HubBuildDeps,
): Promise<ManifestFile> {
  const bytes = await fetchChecked(file, baseUrl, deps.fetch);
  return storeBytes(deps.store, modelId, 'tokenizer.json', bytes);
}

async function storeBytes(
  store: ModelStore,
  modelId: string,
  path: string,
  bytes: Uint8Array,
): Promise<ManifestFile> {
  const partial = await store.beginWrite(modelId, path, bytes.length);
  try {
    if (partial.bytesWritten > 0) await partial.restart();
    const chunk = 8 << 20;
    for (let at = 0; at < bytes.length; at += chunk) await partial.append(bytes.subarray(at, at + chunk));
    await partial.commit();
  } catch (error) {
    await partial.abort().catch(() => undefined);
    throw error;
  }
  return { path, bytes: bytes.length, sha256: await sha256Hex(bytes) };
}

interface ProbeOutput {
  image: Float32Array;
  text: Float32Array;
}

/** Runs each built dtype on the probe (WASM) and writes the manifest with what was measured. */
async function verifiedManifest(
  recipe: HubRecipe,
  dtypes: Dtype[],
  files: Map<string, ManifestFile>,
  tokenizer: ManifestFile,
  logitScale: number,
  checkpointSha256: string,
  deps: HubBuildDeps,
  onProgress: (progress: HubBuildProgress) => void,
): Promise<ModelManifest> {
  const ort = await deps.importOrt();
  const template = recipe.manifest;
  const size = template.image.size;
  const outputs = new Map<Dtype, ProbeOutput>();
  for (const [i, dtype] of dtypes.entries()) {
    onProgress({
      stage: 'verify',
      file: `${dtype} probe`,
      loaded: i,
      total: dtypes.length,
      bytesPerSecond: 0,
      secondsLeft: null,
    });
    const run = async (tower: 'image' | 'text') => {
      const blob = await deps.store.readFile(template.id, `${tower}.${dtype}.onnx`);
      const session = await createTowerSession(ort, 'wasm', new Uint8Array(await blob.arrayBuffer()));
      try {
        if (tower === 'image')
          return await runImageTower({ ort, image: session }, probePixelValues(size), 1, size);
        const ids = BigInt64Array.from(recipe.probeTextIds, (id) => BigInt(id));
        return await runTextTower({ ort, text: session }, ids, 1, ids.length);
      } finally {
        await session.release();
      }
    };
    const probe = { image: await run('image'), text: await run('text') };
    for (const [tower, embedding] of Object.entries(probe)) {
      const norm = Math.sqrt(embedding.reduce((s, x) => s + x * x, 0));
      if (!embedding.every(Number.isFinite) || !(norm > 0)) {
        throw new ModelFileError(
          `the ${dtype} ${tower} tower gives ${Number.isFinite(norm) ? 'a zero' : 'a non-finite'} embedding on the probe input.`,
        );
      }
    }
    outputs.set(dtype, probe);
  }
  onProgress({
    stage: 'verify',
    file: 'probe',
    loaded: dtypes.length,
    total: dtypes.length,
    bytesPerSecond: 0,
    secondsLeft: null,
  });

  const known = recipe.knownProbes.find((k) => k.checkpointSha256 === checkpointSha256);
  for (const [path, file] of files) {
    const expected = known?.files?.[path];
    if (expected && expected !== file.sha256) {
      throw new ModelFileError(
        `${path} differs from the file the model toolchain makes from this checkpoint (sha256 ${file.sha256.slice(0, 12)}…, expected ${expected.slice(0, 12)}…).`,
      );
    }
  }
  const reference: { image: ArrayLike<number>; text: ArrayLike<number> } = known
    ? { image: known.imageEmbedding, text: known.textEmbedding }
    : outputs.get(dtypes[0]!)!;
  const variants: ManifestVariant[] = dtypes.map((dtype) => {
    const probe = outputs.get(dtype)!;
    const measured = {
      image: cosineSimilarity(probe.image, reference.image),
      text: cosineSimilarity(probe.text, reference.text),
    };
    const facts = recipe.dtypes[dtype]!;
    const floor = known ? facts.minProbeCosine : MIN_AGREEMENT;
    if (Math.min(measured.image, measured.text) < floor) {
      const against = known
        ? 'the PyTorch embeddings recorded for this checkpoint'
        : `the ${dtypes[0]} build`;
      throw new ModelFileError(
        `the ${dtype} build disagrees with ${against} on the probe (cosine image ${measured.image.toFixed(4)}, text ${measured.text.toFixed(4)}; needs ${floor}).`,
      );
    }
    return {
      dtype,
      backends: facts.backends,
      requiredFeatures: facts.requiredFeatures,
      // Without a PyTorch reference, the engine's later checks compare with this build's own WASM output: allow the
      // agreement measured here, less a margin for other kernels (WebGPU).
      minProbeCosine: known
        ? facts.minProbeCosine
        : Math.min(
            facts.minProbeCosine,
            Math.max(MIN_AGREEMENT, Math.min(measured.image, measured.text) - 0.02),
          ),
      imageModel: files.get(`image.${dtype}.onnx`)!,
      textModel: files.get(`text.${dtype}.onnx`)!,
      measuredProbeCosine: { image: round6(measured.image), text: round6(measured.text) },
    };
  });
  const manifest = {
    ...template,
    logitScale,
    text: { ...template.text, tokenizer },
    variants,
    probe: {
      imageFormula: 'eva-lens-probe-v1' as const,
      imageEmbedding: Array.from(reference.image),
      textInputIds: recipe.probeTextIds,
      textEmbedding: Array.from(reference.text),
    },
    metrics: {
      ...template.metrics,
      checkpointSha256,
      probeReference: known
        ? `PyTorch fp32 embeddings the toolchain recorded for this checkpoint (${known.note})${known.files ? '; files identical to its convert output' : ''}`
        : `the ${dtypes[0]} build itself (the toolchain has no record of this checkpoint)`,
    },
  };
  return validateManifest(manifest, `${template.id} (built)`);
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
