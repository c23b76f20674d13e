/**
 * A hub build recipe (models/eva_lens/skeleton.py build_hub_recipe): how to turn the official
 * `open_clip_model.safetensors` of one architecture into the app's ONNX files without Python. Each output is the
 * finished file `npm run models -- convert` writes, with holes where the weights go; each hole names its hub
 * tensor, the ops that make the initializer (transpose, row slices) and how it is encoded (float32, int8, 4/8-bit
 * blocks). Served as static files next to the app (public/hub/<architecture>/).
 */
import { ManifestError } from '../../core/errors';
import type { Backend, Dtype, ManifestFile, ModelManifest, TextConfig } from '../../core/manifest';
import type { WeightOp } from './weightMaths';

export type Encoding =
  | { kind: 'float32' }
  | { kind: 'int8_columns' | 'int8_rows'; part: 'q' | 'scale' }
  | { kind: 'q4_blocks' | 'q8_blocks'; part: 'codes' | 'scales' | 'zero_points'; blockSize: number }
  /** A constant that repeats an earlier one in the same file (RoPE tables, one per block): copy its bytes. */
  | { kind: 'copy'; from: number };

export interface Hole {
  /** The initializer's name in the graph (for messages). */
  name: string;
  /** Byte offset of the initializer's raw data in the finished file. */
  at: number;
  bytes: number;
  /** The hub tensor it is made from (absent for a copy). */
  hub?: string;
  ops?: WeightOp[];
  encode: Encoding;
}

export interface RecipeOutput {
  tower: 'image' | 'text';
  dtype: Dtype;
  /** The finished file minus its holes. */
  skeleton: ManifestFile;
  /** Size of the finished file. */
  bytes: number;
  /** Sorted by `at`, not overlapping. */
  holes: Hole[];
}

export interface KnownProbe {
  checkpointSha256: string;
  note: string;
  imageEmbedding: number[];
  textEmbedding: number[];
  /** sha256 of each file `convert` makes from this checkpoint ('image.int8.onnx' → hex): the build must match. */
  files?: Record<string, string>;
}

export interface HubRecipe {
  schemaVersion: 1;
  architecture: string;
  /**
   * The official file. `bytes` and `sha256`, where the toolchain records them, are used when the hub's file list
   * cannot be read (the download still verifies against the list's sha256 when it can).
   */
  hub: { repo: string; revision: string; file: string; bytes?: number; sha256?: string };
  logitScaleTensor: string;
  /** Every hub tensor the build reads, with the shape it must have. */
  tensors: Record<string, { shape: number[] }>;
  dtypes: Partial<Record<Dtype, { backends: Backend[]; requiredFeatures: string[]; minProbeCosine: number }>>;
  /** The stored model's manifest, less what the build measures (logit scale, files, probe). */
  manifest: Omit<ModelManifest, 'logitScale' | 'text' | 'variants' | 'probe'> & {
    text: Omit<TextConfig, 'tokenizer'>;
  };
  /** The CLIP tokenizer.json, relative to the recipe. */
  tokenizer: ManifestFile;
  probeTextIds: number[];
  /** PyTorch fp32 probe embeddings of checkpoints the toolchain converted, by the file's sha256. */
  knownProbes: KnownProbe[];
  outputs: RecipeOutput[];
}

const ENCODINGS = new Set(['float32', 'int8_columns', 'int8_rows', 'q4_blocks', 'q8_blocks', 'copy']);

/** Checks what the builder relies on: a damaged recipe is refused with its first fault, never half-built. */
export function validateRecipe(json: unknown, source: string): HubRecipe {
  const fail = (why: string): never => {
    throw new ManifestError(`The build recipe ${source} cannot be used: ${why}.`);
  };
  if (typeof json !== 'object' || json === null) return fail('it is not a JSON object');
  const recipe = json as HubRecipe;
  if (recipe.schemaVersion !== 1) fail(`schema version ${String(recipe.schemaVersion)} is not 1`);
  if (!recipe.hub?.repo || !recipe.hub.file) fail('it names no hub repository and file');
  if (!Array.isArray(recipe.outputs) || recipe.outputs.length === 0) fail('it has no outputs');
  if (typeof recipe.tensors !== 'object' || recipe.tensors === null) fail('it lists no tensors');
  if (!recipe.tensors[recipe.logitScaleTensor]) fail('its logit scale tensor is not listed');
  for (const output of recipe.outputs) {
    const label = `${output.tower}.${output.dtype}`;
    if (!recipe.dtypes?.[output.dtype]) fail(`${label} has no dtype entry`);
    let end = 0;
    let holeBytes = 0;
    for (const hole of output.holes ?? []) {
      if (!(hole.at >= end && hole.bytes > 0 && hole.at + hole.bytes <= output.bytes)) {
        fail(`hole ${hole.name} of ${label} is out of order or outside the file`);
      }
      if (!ENCODINGS.has(hole.encode?.kind)) fail(`hole ${hole.name} has an unknown encoding`);
      if (hole.encode.kind === 'copy') {
        if (!(hole.encode.from >= 0 && hole.encode.from + hole.bytes <= hole.at))
          fail(`hole ${hole.name} of ${label} copies from after itself`);
      } else if (!hole.hub || !recipe.tensors[hole.hub] || !Array.isArray(hole.ops)) {
        fail(`hole ${hole.name} of ${label} reads an unlisted tensor ${String(hole.hub)}`);
      }
      end = hole.at + hole.bytes;
      holeBytes += hole.bytes;
    }
    if (output.skeleton.bytes + holeBytes !== output.bytes)
      fail(`${label}'s skeleton and holes do not add up`);
  }
  return recipe;
}
