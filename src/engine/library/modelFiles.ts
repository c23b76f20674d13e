/**
 * Where the engine gets a model's files from: a served folder (fetched next to its manifest URL) or model storage
 * (read from the browser's store, no network). Either way every file is checked against the manifest's size and
 * sha256 before a session sees it, so a truncated or swapped file never reaches onnxruntime.
 */
import { ManifestError, ModelFileError } from '../../core/errors';
import type { ManifestFile, ModelManifest } from '../../core/manifest';
import {
  fetchVerified,
  loadManifest,
  resolveModelFileUrl,
  sha256Hex,
  type DownloadProgress,
  type FetchLike,
} from './manifestLoader';
import type { ModelStore } from '../storage/modelStore';

/** A file's bytes, and its sha256 check still running (it rejects with a ModelFileError naming the file). */
export interface BytesBeingChecked {
  bytes: Uint8Array;
  checked: Promise<void>;
}

export interface ModelFiles {
  readonly manifest: ModelManifest;
  /** The bytes of one file the manifest lists, checked. @throws ModelFileError naming the file. */
  read(file: ManifestFile, onProgress?: DownloadProgress): Promise<Uint8Array>;
  /**
   * The bytes as soon as they are read, with the sha256 check running beside whatever uses them next (WebCrypto
   * hashes off the worker's thread: B/16's image graph takes ~0.35 s, which then overlaps session creation). The
   * caller must await `checked` before trusting anything computed from the bytes.
   */
  readWhileChecking(file: ManifestFile, onProgress?: DownloadProgress): Promise<BytesBeingChecked>;
}

/** The model whose manifest is at `manifestUrl` (absolute); its files are resolved against that URL. */
export async function servedModelFiles(manifestUrl: string, fetchFn: FetchLike): Promise<ModelFiles> {
  const { manifest } = await loadManifest(manifestUrl, fetchFn);
  const read = (file: ManifestFile, onProgress?: DownloadProgress) =>
    fetchVerified(resolveModelFileUrl(manifestUrl, file), file, {
      fetch: fetchFn,
      ...(onProgress ? { onProgress } : {}),
    });
  return {
    manifest,
    read,
    // A download is checked as it arrives; nothing is left to overlap.
    readWhileChecking: async (file, onProgress) => ({
      bytes: await read(file, onProgress),
      checked: Promise.resolve(),
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
  const readWhileChecking = async (
    file: ManifestFile,
    onProgress?: DownloadProgress,
  ): Promise<BytesBeingChecked> => {
    const blob = await store.readFile(modelId, file.path);
    if (blob.size !== file.bytes)
      throw damaged(file, `it is ${blob.size} bytes, the manifest says ${file.bytes}`);
    const bytes = await readBlob(blob, onProgress);
    const checked = sha256Hex(bytes).then((digest) => {
      if (digest !== file.sha256) throw damaged(file, 'its sha256 does not match the manifest');
    });
    // Marked handled here: the caller awaits it later, and an early failure must not be reported as unhandled.
    checked.catch(() => undefined);
    return { bytes, checked };
  };
  return {
    manifest,
    readWhileChecking,
    async read(file, onProgress) {
      const { bytes, checked } = await readWhileChecking(file, onProgress);
      await checked;
      return bytes;
    },
  };
}

/**
 * A blob's bytes in one buffer. One `arrayBuffer()` call, not a stream: reading B/16's 92 MB image graph from OPFS
 * chunk by chunk (with a copy and a progress event per chunk) took about 0.7 s here, and a local read needs no
 * progress bar.
 */
async function readBlob(blob: Blob, onProgress?: DownloadProgress): Promise<Uint8Array> {
  onProgress?.(0, blob.size);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  onProgress?.(bytes.length, blob.size);
  return bytes;
}
