/**
 * Where the engine gets a model's files from: a served folder (fetched next to its manifest URL) or model storage
 * (read from the browser's store, no network). Either way every file is checked against the manifest's size and
 * sha256 before a session sees it, so a truncated or swapped file never reaches onnxruntime.
 */
import { ManifestError, ModelFileError } from './errors';
import type { ManifestFile, ModelManifest } from './manifest';
import {
  fetchVerified,
  loadManifest,
  resolveModelFileUrl,
  sha256Hex,
  type DownloadProgress,
  type FetchLike,
} from './manifestLoader';
import type { ModelStore } from './modelStore';

export interface ModelFiles {
  readonly manifest: ModelManifest;
  /** The bytes of one file the manifest lists, checked. @throws ModelFileError naming the file. */
  read(file: ManifestFile, onProgress?: DownloadProgress): Promise<Uint8Array>;
}

/** The model whose manifest is at `manifestUrl` (absolute); its files are resolved against that URL. */
export async function servedModelFiles(manifestUrl: string, fetchFn: FetchLike): Promise<ModelFiles> {
  const { manifest } = await loadManifest(manifestUrl, fetchFn);
  return {
    manifest,
    read: (file, onProgress) =>
      fetchVerified(resolveModelFileUrl(manifestUrl, file), file, {
        fetch: fetchFn,
        ...(onProgress ? { onProgress } : {}),
      }),
  };
}

/**
 * The stored model `modelId`, as the store lists it (only its stored variants).
 * @throws ManifestError when the store does not hold it (deleted in another tab, or storage cleared).
 */
export async function storedModelFiles(store: ModelStore, modelId: string): Promise<ModelFiles> {
  const stored = (await store.list()).find((model) => model.id === modelId);
  if (!stored) {
    throw new ManifestError(
      `The model ${modelId} is not in this browser's model storage (it may have been deleted or cleared). ` +
        `Download it again in Models.`,
    );
  }
  const { manifest } = stored;
  const damaged = (file: ManifestFile, why: string) =>
    new ModelFileError(
      `${file.path} of ${manifest.name} is damaged in this browser's model storage (${why}). ` +
        `Delete ${manifest.name} in Models and download it again.`,
    );
  return {
    manifest,
    async read(file, onProgress) {
      const blob = await store.readFile(modelId, file.path);
      if (blob.size !== file.bytes)
        throw damaged(file, `it is ${blob.size} bytes, the manifest says ${file.bytes}`);
      const bytes = await readBlob(blob, onProgress);
      if ((await sha256Hex(bytes)) !== file.sha256)
        throw damaged(file, 'its sha256 does not match the manifest');
      return bytes;
    },
  };
}

/** A blob's bytes in one buffer, reading it as a stream so that progress can be reported on a large file. */
async function readBlob(blob: Blob, onProgress?: DownloadProgress): Promise<Uint8Array> {
  const bytes = new Uint8Array(blob.size);
  onProgress?.(0, blob.size);
  const reader = blob.stream().getReader();
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes.set(value, loaded);
    loaded += value.length;
    onProgress?.(loaded, blob.size);
  }
  return bytes;
}
