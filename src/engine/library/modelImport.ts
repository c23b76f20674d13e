/**
 * Imports a model folder made by `npm run models -- convert` (picked or dropped by the user) into model storage:
 * the manifest.json nearest the root names the model, its files are matched by path relative to that manifest, and
 * each is checked (size, sha256) before the model is listed. All or nothing: files are written as partials and
 * committed only once every file passed, so a failed or cancelled import leaves nothing of the model behind.
 */
import { CancelledError, ManifestError, ModelFileError } from '../../core/errors';
import type { ManifestFile, ModelManifest } from '../../core/manifest';
import { sha256Hex } from './manifestLoader';
import { validateManifest } from './manifestValidation';
import { storageFullError, type ModelStore, type PartialFile, type StoredModel } from '../storage/modelStore';
import { dropOutdatedCopy, putCompleteManifest } from '../storage/storedManifest';
import { ProgressMeter, type TransferProgress } from './transferProgress';

export interface ImportedFile {
  /** Path relative to the folder that was picked or dropped, e.g. 'eva02-clip-b-16/image.int8.onnx'. */
  path: string;
  file: Blob;
}

/** A model folder found among the imported files. */
export interface ImportFolder {
  manifest: ModelManifest;
  /** Where its manifest.json was, as imported (for messages). */
  manifestPath: string;
  /** The files to store with their blobs: the tokenizer, then both graphs of each variant that has them. */
  files: { file: ManifestFile; blob: Blob }[];
}

export interface ImportModelOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Aborting stops the import with a CancelledError; nothing of the model is kept. */
  signal?: AbortSignal;
  now?: () => number;
}

const MANIFEST_NAME = 'manifest.json';
/** Bytes per append: progress and cancellation granularity while a file is written. */
const APPEND_BYTES = 4 * 1024 * 1024;

const WHAT_TO_IMPORT =
  'Import the folder that `npm run models -- convert --out <folder>` wrote: it holds manifest.json, ' +
  'tokenizer.json, and image.<dtype>.onnx and text.<dtype>.onnx for each variant.';

/** Reads and checks the folder, then stores it (see the module comment). */
export async function importModel(
  files: readonly ImportedFile[],
  store: ModelStore,
  options: ImportModelOptions = {},
): Promise<StoredModel> {
  return importModelFolder(await readImportFolder(files), store, options);
}

/**
 * Finds the model among `files`: its manifest (validated), its complete variants, and the blobs of their files,
 * each of the size the manifest says. Reads only the manifest.
 * @throws ManifestError without a manifest.json, with two at the same depth, or with an invalid one;
 *   ModelFileError when the tokenizer or every variant's graphs are missing, or a file has the wrong size.
 */
export async function readImportFolder(files: readonly ImportedFile[]): Promise<ImportFolder> {
  const byPath = new Map(files.map(({ path, file }) => [normalizePath(path), file]));
  const manifestPath = nearestManifest([...byPath.keys()]);
  const manifest = await readManifest(manifestPath, byPath.get(manifestPath)!);
  const folder = manifestPath.slice(0, -MANIFEST_NAME.length);
  const blobOf = (file: ManifestFile) => byPath.get(folder + normalizePath(file.path));

  const variants = manifest.variants.filter((v) => blobOf(v.imageModel) && blobOf(v.textModel));
  if (!blobOf(manifest.text.tokenizer) || variants.length === 0) {
    const missing = [
      manifest.text.tokenizer,
      ...manifest.variants.flatMap((v) => [v.imageModel, v.textModel]),
    ]
      .filter((file) => !blobOf(file))
      .map((file) => folder + file.path);
    throw new ModelFileError(
      `${manifestPath} lists files that are not among the imported ones: ${missing.join(', ')}. ` +
        `The tokenizer and both graphs of at least one variant are needed. ${WHAT_TO_IMPORT}`,
    );
  }
  const needed = [manifest.text.tokenizer, ...variants.flatMap((v) => [v.imageModel, v.textModel])];
  const unique = [...new Map(needed.map((file) => [file.path, file])).values()];
  return {
    manifest,
    manifestPath,
    files: unique.map((file) => {
      const blob = blobOf(file)!;
      if (blob.size !== file.bytes) {
        throw new ModelFileError(
          `${folder}${file.path} is ${blob.size} bytes but ${manifestPath} says ${file.bytes}: the file is incomplete ` +
            `or was changed after conversion. Copy the folder again, or convert the model again.`,
        );
      }
      return { file, blob };
    }),
  };
}

/**
 * Checks each file's sha256 and writes it as a partial, one file in memory at a time; commits them all and writes
 * the manifest only when every file passed. A stored copy of an older version of the model is replaced (it is
 * removed before the first write). Variants stored earlier of the same version stay listed.
 * @throws ModelFileError naming a file whose checksum is wrong; StorageFullError; CancelledError on abort.
 */
export async function importModelFolder(
  folder: ImportFolder,
  store: ModelStore,
  options: ImportModelOptions = {},
): Promise<StoredModel> {
  const { manifest } = folder;
  const signal = options.signal ?? null;
  const total = folder.files.reduce((sum, { file }) => sum + file.bytes, 0);
  const space = await store.estimate();
  if (space && total > space.quota - space.usage) throw storageFullError(manifest.name, total, space);
  throwIfCancelled(signal);
  await dropOutdatedCopy(store, manifest);

  const progress = new ProgressMeter(total, options.now ?? (() => performance.now()), options.onProgress);
  const written: PartialFile[] = [];
  try {
    for (const { file, blob } of folder.files) {
      throwIfCancelled(signal);
      written.push(await writeChecked(folder, file, blob, store, progress, signal));
    }
    throwIfCancelled(signal);
  } catch (error) {
    for (const partial of written) await partial.abort().catch(() => undefined);
    throw error;
  }
  for (const [index, partial] of written.entries()) {
    try {
      await partial.commit();
    } catch (error) {
      for (const rest of written.slice(index)) await rest.abort().catch(() => undefined);
      throw error;
    }
  }
  return putCompleteManifest(store, manifest);
}

/** Hashes one file, then writes those same bytes to a fresh partial; returns the partial, not yet committed. */
async function writeChecked(
  folder: ImportFolder,
  file: ManifestFile,
  blob: Blob,
  store: ModelStore,
  progress: ProgressMeter,
  signal: AbortSignal | null,
): Promise<PartialFile> {
  progress.verifying(file.path);
  // crypto.subtle.digest needs the whole file in one buffer; the write below reuses it rather than reading again.
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== file.sha256) {
    throw new ModelFileError(
      `${file.path} does not match the checksum in ${folder.manifestPath}: expected sha256 ${file.sha256.slice(0, 12)}…, got ` +
        `${digest.slice(0, 12)}…. The file was changed or damaged after conversion; nothing of ${folder.manifest.name} was ` +
        `imported. Copy the folder again, or convert the model again.`,
    );
  }
  throwIfCancelled(signal);
  const partial = await store.beginWrite(folder.manifest.id, file.path, file.bytes);
  try {
    // A partial left by an earlier download of this file is replaced by the checked bytes.
    if (partial.bytesWritten > 0) await partial.restart();
    progress.startFile(file.path, 0, 'store');
    for (let at = 0; at < bytes.length; at += APPEND_BYTES) {
      throwIfCancelled(signal);
      const chunk = bytes.subarray(at, at + APPEND_BYTES);
      await partial.append(chunk);
      progress.advance(chunk.length, 'store');
    }
    progress.finishFile(file.bytes);
    return partial;
  } catch (error) {
    await partial.abort().catch(() => undefined);
    throw error;
  }
}

/** The manifest.json with the fewest folders above it; two at that depth are two models, which is ambiguous. */
function nearestManifest(paths: readonly string[]): string {
  const manifests = paths.filter((path) => path === MANIFEST_NAME || path.endsWith(`/${MANIFEST_NAME}`));
  if (manifests.length === 0)
    throw new ManifestError(`There is no manifest.json among the imported files. ${WHAT_TO_IMPORT}`);
  const depth = (path: string) => path.split('/').length;
  const shallowest = Math.min(...manifests.map(depth));
  const nearest = manifests.filter((path) => depth(path) === shallowest).sort();
  if (nearest.length > 1) {
    throw new ManifestError(
      `The imported files hold several models (${nearest.join(', ')}). Import one model folder at a time.`,
    );
  }
  return nearest[0]!;
}

async function readManifest(path: string, blob: Blob): Promise<ModelManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await blob.text());
  } catch {
    throw new ManifestError(`${path} is not valid JSON. ${WHAT_TO_IMPORT}`);
  }
  return validateManifest(json, path);
}

/** Forward slashes, no leading './' or '/' (drops and pickers spell the same path differently). */
function normalizePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(?:\.?\/)+/, '');
}

function throwIfCancelled(signal: AbortSignal | null): void {
  if (signal?.aborted) throw new CancelledError('The import was cancelled; nothing of the model was stored.');
}
