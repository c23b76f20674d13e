/**
 * The model toolchain's references for the demo model (e2e/fixtures/demo-reference.json) and the sample list the
 * app ships (public/samples/samples.json). Tests derive every expected number from these files, so they stay valid
 * when the demo model is retrained.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SAMPLES_DIR } from './paths';

export interface OnnxReference {
  /** Index into `labels` of each file's most probable label, as the toolchain's ONNX run of this dtype found. */
  top1: number[];
  accuracy: number;
  minImageCosine: number;
  minTextCosine: number;
}

export interface DemoReference {
  modelId: string;
  template: string;
  labels: string[];
  files: string[];
  logitScale: number;
  pytorch: {
    top1: number[];
    accuracy: number;
    /** Per file, L2-normalised. */
    imageEmbeddings: number[][];
    /** Per label (with `template`), L2-normalised. */
    textEmbeddings: number[][];
    inputIds: number[][];
  };
  onnx: Record<string, OnnxReference>;
}

export interface SampleEntry {
  file: string;
  label: string;
  heldOut: boolean;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export const reference = readJson<DemoReference>(join(ROOT, 'e2e', 'fixtures', 'demo-reference.json'));
export const samples = readJson<SampleEntry[]>(join(SAMPLES_DIR, 'samples.json'));
export const manifest = readJson<{ id: string; name: string }>(
  join(ROOT, 'public', 'models', 'eva-lens-demo', 'manifest.json'),
);

/** The distinct sample labels in the order they first appear (what "Try the samples" sets). */
export const sampleLabels = [...new Set(samples.map((sample) => sample.label.trim()))];

export function trueLabelOf(file: string): string {
  const entry = samples.find((sample) => sample.file === file);
  if (!entry) throw new Error(`${file} is not in public/samples/samples.json.`);
  return entry.label.trim();
}

/**
 * The label the browser must rank first for `file` when `dtype` ran: PyTorch's top-1, except where the
 * toolchain's own ONNX run of that dtype already disagrees with PyTorch — then the ONNX one. A dtype the toolchain
 * did not check (e.g. fp32) must match PyTorch.
 */
export function expectedTop1(file: string, dtype: string): string {
  const index = reference.files.indexOf(file);
  if (index < 0) throw new Error(`${file} has no reference in demo-reference.json.`);
  const onnxTop1 = reference.onnx[dtype]?.top1[index];
  const pytorchTop1 = reference.pytorch.top1[index]!;
  return reference.labels[onnxTop1 ?? pytorchTop1]!;
}

/** The sample accuracy the toolchain measured for `dtype` (PyTorch's for a dtype it did not check). */
export function expectedAccuracy(dtype: string): number {
  return reference.onnx[dtype]?.accuracy ?? reference.pytorch.accuracy;
}

/** Quantized variants only approximate the fp32 towers; an fp32 variant must match almost exactly. */
export function minCosineFor(dtype: string): number {
  return dtype === 'fp32' ? 0.9999 : 0.99;
}

/** Dot product: the cosine of two L2-normalised embeddings, computed as the page computes it. */
export function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((sum, value, i) => sum + value * b[i]!, 0);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length)
    throw new Error(`Vectors of length ${a.length} and ${b.length} cannot be compared.`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
