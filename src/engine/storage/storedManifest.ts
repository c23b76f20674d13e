/**
 * What a download and an import do to a stored model around its files: an older version of the model goes first,
 * and the manifest is written last, listing only the variants whose files are all stored.
 */
import { ManifestError, ModelFileError } from '../../core/errors';
import type { Dtype, ManifestFile, ModelManifest } from '../../core/manifest';
import type { ModelStore, StoredModel } from './modelStore';

/** Every file a manifest lists: the tokenizer, then each variant's image and text graph. */
export function manifestFiles(manifest: ModelManifest): ManifestFile[] {
  return [manifest.text.tokenizer, ...manifest.variants.flatMap((v) => [v.imageModel, v.textModel])];
}

/** The tokenizer, then the image and text graph of each requested variant (a path shared by two is listed once). */
export function filesForVariants(manifest: ModelManifest, dtypes: readonly Dtype[]): ManifestFile[] {
  if (dtypes.length === 0)
    throw new ManifestError(`Choose at least one variant of ${manifest.name} to download.`);
  const files = new Map<string, ManifestFile>([[manifest.text.tokenizer.path, manifest.text.tokenizer]]);
  for (const dtype of dtypes) {
    const variant = manifest.variants.find((v) => v.dtype === dtype);
    if (!variant) {
      const available = manifest.variants.map((v) => v.dtype).join(', ');
      throw new ManifestError(`${manifest.name} has no ${dtype} variant (it has ${available}).`);
    }
    for (const file of [variant.imageModel, variant.textModel]) files.set(file.path, file);
  }
  return [...files.values()];
}

/**
 * A stored copy whose manifest lists a file with another checksum is an older version of the model: it is removed
 * first, so the store never lists a manifest whose files do not match it.
 */
export async function dropOutdatedCopy(store: ModelStore, manifest: ModelManifest): Promise<void> {
  const stored = (await store.list()).find((model) => model.id === manifest.id);
  if (!stored) return;
  const current = new Map(manifestFiles(manifest).map((file) => [file.path, file.sha256]));
  const outdated = manifestFiles(stored.manifest).some((file) => current.get(file.path) !== file.sha256);
  if (outdated) await store.delete(manifest.id);
}

/**
 * Writes the manifest with only the variants whose both graphs are committed (this transfer's and earlier ones),
 * which makes the model listed, and returns the model as the store lists it.
 */
export async function putCompleteManifest(store: ModelStore, manifest: ModelManifest): Promise<StoredModel> {
  const isCommitted = async (file: ManifestFile) =>
    (await store.fileInfo(manifest.id, file.path)).committedBytes === file.bytes;
  const variants = [];
  for (const variant of manifest.variants) {
    if ((await isCommitted(variant.imageModel)) && (await isCommitted(variant.textModel)))
      variants.push(variant);
  }
  await store.putManifest({ ...manifest, variants });
  const listed = (await store.list()).find((model) => model.id === manifest.id);
  if (!listed) throw new ModelFileError(`${manifest.name} was stored but the store does not list it.`);
  return listed;
}
