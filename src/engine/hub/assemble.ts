/**
 * Fills the holes of recipe outputs with weights from hub tensors: the browser's twin of skeleton.py `assemble`.
 * Memory stays bounded: the finished files are allocated once, and hub tensors are read one at a time (in file
 * order), each turned into every initializer and encoding that needs it, then dropped.
 */
import { CancelledError } from '../../core/errors';
import type { Encoding, Hole, RecipeOutput } from './recipe';
import {
  applyOps,
  quantizeBlocks,
  quantizeInt8Columns,
  quantizeInt8Rows,
  type FloatTensor,
  type WeightOp,
} from './weightMaths';

/** Where hub tensors come from (the stored checkpoint in the app, a file in tests). */
export interface TensorSource {
  /** Hub tensor names in the order reading them is cheapest (their order in the file). */
  order(names: readonly string[]): string[];
  read(name: string): Promise<FloatTensor>;
}

export interface AssemblyProgress {
  /** 'convert': a hub tensor was read and reshaped; 'quantize': its encodings were written. */
  stage: 'convert' | 'quantize';
  done: number;
  total: number;
  tensor: string;
}

/** An error in one step of the build, so the page can say which step failed. */
export class BuildStepError extends Error {
  constructor(
    readonly step: 'convert' | 'quantize',
    message: string,
  ) {
    super(message);
    this.name = 'BuildStepError';
  }
}

/** Builds every output's file from `skeletons` (the same order as `outputs`) and the hub tensors of `source`. */
export async function assembleOutputs(
  outputs: readonly RecipeOutput[],
  skeletons: readonly Uint8Array[],
  source: TensorSource,
  onProgress?: (progress: AssemblyProgress) => void,
  signal?: AbortSignal,
): Promise<Uint8Array[]> {
  const files = outputs.map((output, i) => copySkeleton(output, skeletons[i]!));
  const byHub = new Map<string, { file: Uint8Array; hole: Hole & { hub: string; ops: WeightOp[] } }[]>();
  outputs.forEach((output, i) => {
    for (const hole of output.holes) {
      if (hole.encode.kind === 'copy' || !hole.hub) continue; // copies are made by copySkeleton
      const list = byHub.get(hole.hub) ?? [];
      list.push({ file: files[i]!, hole: { ...hole, hub: hole.hub, ops: hole.ops ?? [] } });
      byHub.set(hole.hub, list);
    }
  });
  const names = source.order([...byHub.keys()]);
  let done = 0;
  for (const name of names) {
    if (signal?.aborted) throw new CancelledError('The build was cancelled; the download is kept.');
    const tensor = await source.read(name);
    const shaped = new Map<string, FloatTensor>();
    const encoded = new Map<string, Record<string, Uint8Array>>();
    for (const { file, hole } of byHub.get(name)!) {
      const opsKey = JSON.stringify(hole.ops);
      let weight = shaped.get(opsKey);
      if (!weight) {
        weight = step('convert', hole, () => applyOps(tensor, hole.ops));
        shaped.set(opsKey, weight);
      }
      // q and scale (or codes, scales and zero points) come from one quantization: do it once.
      const { part, ...method } = { part: 'value', ...hole.encode };
      const key = `${opsKey}|${JSON.stringify(method)}`;
      let parts = encoded.get(key);
      if (!parts) {
        const w = weight;
        parts = step('quantize', hole, () => encodeWeight(w, hole.encode));
        encoded.set(key, parts);
      }
      const bytes = parts[part]!;
      if (bytes.length !== hole.bytes) {
        throw new BuildStepError(
          'convert',
          `${hole.name} needs ${hole.bytes} bytes, but ${name} gave ${bytes.length}: the checkpoint does not fit this architecture.`,
        );
      }
      file.set(bytes, hole.at);
    }
    done++;
    onProgress?.({ stage: 'convert', done, total: names.length, tensor: name });
    onProgress?.({ stage: 'quantize', done, total: names.length, tensor: name });
    // Let cancel messages and progress through between tensors.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return files;
}

function step<T>(which: 'convert' | 'quantize', hole: Hole, run: () => T): T {
  try {
    return run();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new BuildStepError(which, `${hole.name} (from ${hole.hub}): ${why}`);
  }
}

/** The skeleton's bytes placed around the holes of a file of `output.bytes`, and repeated constants copied. */
function copySkeleton(output: RecipeOutput, skeleton: Uint8Array): Uint8Array {
  const file = new Uint8Array(output.bytes);
  let from = 0;
  let to = 0;
  for (const hole of output.holes) {
    const gap = hole.at - to;
    file.set(skeleton.subarray(from, from + gap), to);
    from += gap;
    to = hole.at + hole.bytes;
  }
  file.set(skeleton.subarray(from), to);
  for (const hole of output.holes) {
    if (hole.encode.kind === 'copy')
      file.copyWithin(hole.at, hole.encode.from, hole.encode.from + hole.bytes);
  }
  return file;
}

function bytesOf(array: Float32Array | Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Every part's bytes of one encoding of the shaped float32 weight (skeleton.py encode_weight), by part name. */
export function encodeWeight(weight: FloatTensor, encode: Encoding): Record<string, Uint8Array> {
  switch (encode.kind) {
    case 'float32':
      return { value: bytesOf(weight.data) };
    case 'int8_columns':
    case 'int8_rows': {
      const { q, scale } =
        encode.kind === 'int8_columns' ? quantizeInt8Columns(weight) : quantizeInt8Rows(weight);
      return { q: bytesOf(q), scale: bytesOf(scale) };
    }
    case 'copy':
      throw new Error('a copied constant has no weight to encode');
    case 'q4_blocks':
    case 'q8_blocks': {
      const blocks = quantizeBlocks(weight, encode.kind === 'q4_blocks' ? 4 : 8, encode.blockSize);
      return {
        codes: bytesOf(blocks.codes),
        scales: bytesOf(blocks.scales),
        zero_points: bytesOf(blocks.zeroPoints),
      };
    }
  }
}
