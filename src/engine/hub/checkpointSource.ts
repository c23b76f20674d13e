/**
 * The downloaded `open_clip_model.safetensors` as the builder reads it: the header parsed once, checked against the
 * recipe (every tensor there, with its shape and a float dtype) before any work, then one tensor at a time by
 * slicing the stored file — a 300 MB checkpoint is never held whole.
 */
import { ModelFileError } from '../../core/errors';
import {
  headerLength,
  parseSafetensorsHeader,
  tensorToFloat32,
  type SafetensorsHeader,
  SafetensorsError,
} from './safetensors';
import type { TensorSource } from './assemble';
import type { HubRecipe } from './recipe';
import type { FloatTensor } from './weightMaths';

/** The part of Blob the builder needs (a stored file in the app; `fs.openAsBlob` in tests). */
export interface BlobLike {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

async function readRange(blob: BlobLike, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

/** Parses the header of a stored checkpoint. @throws ModelFileError saying why the file is not a safetensors file. */
export async function readCheckpointHeader(blob: BlobLike, fileName: string): Promise<SafetensorsHeader> {
  try {
    const length = headerLength(await readRange(blob, 0, Math.min(8, blob.size)), blob.size);
    return parseSafetensorsHeader(await readRange(blob, 0, 8 + length), blob.size);
  } catch (error) {
    if (error instanceof SafetensorsError)
      throw new ModelFileError(`${fileName} cannot be read: ${error.message}`);
    throw error;
  }
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

/**
 * Refuses a checkpoint that is not the recipe's architecture, naming what is missing, mis-shaped or not float.
 * @throws ModelFileError
 */
export function checkCheckpoint(header: SafetensorsHeader, recipe: HubRecipe, fileName: string): void {
  const missing: string[] = [];
  const wrongShape: string[] = [];
  const wrongDtype: string[] = [];
  for (const [name, { shape }] of Object.entries(recipe.tensors)) {
    const entry = header.tensors.get(name);
    if (!entry) missing.push(name);
    else if (entry.shape.join(',') !== shape.join(','))
      wrongShape.push(`${name} is [${entry.shape.join(', ')}], expected [${shape.join(', ')}]`);
    else if (!FLOAT_DTYPES.has(entry.dtype)) wrongDtype.push(`${name} is ${entry.dtype}`);
  }
  if (missing.length + wrongShape.length + wrongDtype.length === 0) return;
  const list = (title: string, items: string[]) =>
    items.length
      ? ` ${title}: ${items.slice(0, 3).join('; ')}${items.length > 3 ? ` and ${items.length - 3} more` : ''}.`
      : '';
  throw new ModelFileError(
    `${fileName} is not a checkpoint of ${recipe.architecture}.` +
      list('Missing', missing) +
      list('Wrong shape', wrongShape) +
      list('Not F32, F16 or BF16', wrongDtype),
  );
}

/** Hub tensors read from the stored file, in file order. */
export function checkpointSource(blob: BlobLike, header: SafetensorsHeader): TensorSource {
  return {
    order: (names) =>
      [...names].sort((a, b) => (header.tensors.get(a)?.begin ?? 0) - (header.tensors.get(b)?.begin ?? 0)),
    async read(name): Promise<FloatTensor> {
      const entry = header.tensors.get(name);
      if (!entry) throw new ModelFileError(`The checkpoint has no tensor ${name}.`);
      const data = tensorToFloat32(entry, await readRange(blob, entry.begin, entry.end));
      return { data, shape: entry.shape };
    },
  };
}

/** A scalar tensor (the logit scale) as a number. */
export async function readScalar(source: TensorSource, name: string): Promise<number> {
  const { data } = await source.read(name);
  if (data.length !== 1) throw new ModelFileError(`${name} should hold one number, not ${data.length}.`);
  return data[0]!;
}
