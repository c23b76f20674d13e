/**
 * Downloads a model into a ModelStore: resumable (HTTP Range from the partial's size), verified (size and sha256
 * before a file is committed), cancellable (the partial is kept), and checked against the free storage before the
 * first byte. The manifest is written last, so a model is listed only when every file it lists is stored.
 */
import { CancelledError, ModelFileError, describeError } from '../../core/errors';
import type { Dtype, ManifestFile } from '../../core/manifest';
import { loadManifest, resolveModelFileUrl, sha256Hex, type LoadedManifest } from './manifestLoader';
import { storageFullError, type ModelStore, type PartialFile, type StoredModel } from '../storage/modelStore';
import { dropOutdatedCopy, filesForVariants, putCompleteManifest } from '../storage/storedManifest';
import { ProgressMeter, type TransferProgress } from './transferProgress';

/** `fetch` as the downloader calls it (a Range header on resume); the global fetch fits. */
export type RangeFetch = (
  url: string,
  init?: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<Response>;

/** Download progress ('download' while bytes arrive, 'verify' while a file is checked). */
export type ModelDownloadProgress = TransferProgress;

export interface DownloadModelOptions {
  /** The variants to store (their image and text graphs); the tokenizer is always stored. */
  dtypes: readonly Dtype[];
  fetch?: RangeFetch;
  onProgress?: (progress: ModelDownloadProgress) => void;
  /** Aborting stops the download with a CancelledError; the partial file is kept for the next attempt. */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Fetches the manifest at `manifestUrl` (absolute) and stores the tokenizer and the files of the variants `dtypes`
 * names, resuming any partial a previous attempt left. Files already stored are checked against the manifest's
 * sha256 and kept when they match.
 * @returns the model as the store now lists it.
 * @throws ManifestError for a bad manifest or a dtype it does not have; StorageFullError when the files do not fit;
 *   ModelFileError when a file cannot be downloaded or does not match its checksum; CancelledError on abort.
 */
export async function downloadModel(
  manifestUrl: string,
  store: ModelStore,
  options: DownloadModelOptions,
): Promise<StoredModel> {
  throwIfCancelled(options.signal);
  const loaded = await loadManifest(manifestUrl, fetchFunction(options));
  return downloadModelFiles(loaded, store, options);
}

/** downloadModel for a manifest already fetched (the caller needed its id first, e.g. to take a lock). */
export async function downloadModelFiles(
  { manifest, manifestUrl }: LoadedManifest,
  store: ModelStore,
  options: DownloadModelOptions,
): Promise<StoredModel> {
  const fetchFn = fetchFunction(options);
  const signal = options.signal;
  throwIfCancelled(signal);
  const files = filesForVariants(manifest, options.dtypes);
  await dropOutdatedCopy(store, manifest);

  // Verify what an earlier attempt committed; count what still has to come over the network.
  const plan: { file: ManifestFile; stored: boolean }[] = [];
  const progress = new ProgressMeter(
    plannedBytes(files),
    options.now ?? (() => performance.now()),
    options.onProgress,
  );
  let neededBytes = 0;
  for (const file of files) {
    const stored = await isStoredIntact(store, manifest.id, file, progress, signal);
    plan.push({ file, stored });
    if (stored) {
      progress.finishFile(file.bytes);
      continue;
    }
    const { partialBytes } = await store.fileInfo(manifest.id, file.path);
    neededBytes += file.bytes - (partialBytes !== null && partialBytes <= file.bytes ? partialBytes : 0);
  }
  const space = await store.estimate();
  if (space && neededBytes > space.quota - space.usage) {
    throw storageFullError(manifest.name, neededBytes, space);
  }

  for (const { file, stored } of plan) {
    if (stored) continue;
    await downloadFile(
      resolveModelFileUrl(manifestUrl, file),
      file,
      manifest.id,
      store,
      fetchFn,
      progress,
      signal,
    );
  }
  throwIfCancelled(signal);
  return putCompleteManifest(store, manifest);
}

/** Bytes of the files a download of `dtypes` stores (its progress total). */
export function downloadBytes(loaded: LoadedManifest, dtypes: readonly Dtype[]): number {
  return plannedBytes(filesForVariants(loaded.manifest, dtypes));
}

function plannedBytes(files: readonly ManifestFile[]): number {
  return files.reduce((sum, file) => sum + file.bytes, 0);
}

function fetchFunction(options: DownloadModelOptions): RangeFetch {
  return options.fetch ?? ((url, init) => fetch(url, init));
}

/** A committed file counts as stored only if its bytes still hash to the manifest's sha256. */
async function isStoredIntact(
  store: ModelStore,
  modelId: string,
  file: ManifestFile,
  progress: ProgressMeter,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { committedBytes } = await store.fileInfo(modelId, file.path);
  if (committedBytes !== file.bytes) return false;
  progress.verifying(file.path);
  const digest = await sha256Hex(
    new Uint8Array(await (await store.readFile(modelId, file.path)).arrayBuffer()),
  );
  throwIfCancelled(signal);
  return digest === file.sha256;
}

/**
 * Streams one file into its partial, resuming from the partial's size, then checks size and sha256 and commits.
 * A checksum failure after a resume may come from a partial of an older version of the file: the file is then
 * fetched once more from byte 0 before the failure is reported.
 */
async function downloadFile(
  url: string,
  file: ManifestFile,
  modelId: string,
  store: ModelStore,
  fetchFn: RangeFetch,
  progress: ProgressMeter,
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const partial = await store.beginWrite(modelId, file.path, file.bytes);
    const resumedFrom = partial.bytesWritten;
    progress.startFile(file.path, resumedFrom);
    try {
      if (partial.bytesWritten < file.bytes) await receive(url, file, partial, fetchFn, progress, signal);
      progress.verifying(file.path);
      const digest = await sha256Hex(new Uint8Array(await (await partial.contents()).arrayBuffer()));
      if (digest === file.sha256) {
        await partial.commit();
        progress.finishFile(file.bytes);
        return;
      }
      await partial.abort();
      if (resumedFrom > 0 && attempt === 0) continue;
      throw new ModelFileError(
        `${file.path} does not match the checksum in the manifest: expected sha256 ${file.sha256.slice(0, 12)}…, got ${digest.slice(0, 12)}…. ` +
          `The file on the server was replaced or corrupted in transit; it was not stored. Retry, or re-export the model.`,
      );
    } catch (error) {
      // Keep the partial (cancel, network failure, short body) so the next attempt resumes; abort() already ran for
      // bytes that cannot be right.
      await partial.close().catch(() => undefined);
      throw error;
    }
  }
}

/**
 * Requests the rest of the file (a Range from the partial's size) and appends the body to the partial. `file.sha256`
 * is not used here (the hub build, which knows no checksum in advance, calls it too).
 */
export async function receive(
  url: string,
  file: ManifestFile,
  partial: PartialFile,
  fetchFn: RangeFetch,
  progress: ProgressMeter,
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfCancelled(signal);
  const offset = partial.bytesWritten;
  let response: Response;
  try {
    response = await fetchFn(url, {
      ...(signal ? { signal } : {}),
      ...(offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {}),
    });
  } catch (error) {
    throwIfCancelled(signal);
    throw new ModelFileError(
      `Could not download ${file.path} (${describeError(error)}). Check the connection and retry.`,
    );
  }
  if (
    offset > 0 &&
    (response.status === 416 || (response.status === 206 && rangeStart(response) !== offset))
  ) {
    // The server cannot continue from our partial: start over without a Range.
    await response.body?.cancel().catch(() => undefined);
    await partial.restart();
    progress.startFile(file.path, 0);
    return receive(url, file, partial, fetchFn, progress, signal);
  }
  if (!response.ok) {
    throw new ModelFileError(`Could not download ${file.path} from ${url} (HTTP ${response.status}).`);
  }
  // Static hosts and dev servers answer a missing file with the app's index.html and status 200.
  if ((response.headers.get('content-type') ?? '').toLowerCase().includes('text/html')) {
    throw new ModelFileError(
      `${file.path} is missing on the server at ${url} (it answered with a web page).`,
    );
  }
  if (response.status !== 206 && partial.bytesWritten > 0) {
    // A 200 is the whole file from byte 0, whatever we asked for.
    await partial.restart();
    progress.startFile(file.path, 0);
  }
  await streamInto(response, file, partial, progress, signal);
}

/** The first byte of a 206's Content-Range ('bytes 100-999/1000'), or null when it is missing or unreadable. */
function rangeStart(response: Response): number | null {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(response.headers.get('content-range')?.trim() ?? '');
  return match ? Number(match[1]) : null;
}

async function streamInto(
  response: Response,
  file: ManifestFile,
  partial: PartialFile,
  progress: ProgressMeter,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!response.body) throw new ModelFileError(`The server sent no body for ${file.path}. Retry.`);
  const reader = response.body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throwIfCancelled(signal);
        throw new ModelFileError(
          `The download of ${file.path} was interrupted (${describeError(error)}). Retry.`,
        );
      }
      if (chunk.done) break;
      if (partial.bytesWritten + chunk.value.length > file.bytes) {
        // More bytes than the manifest says: this is another file, and what we have of it cannot be trusted.
        await partial.abort();
        throw new ModelFileError(
          `${file.path} on the server is larger than the ${file.bytes} bytes the manifest says: it was replaced. ` +
            `It was not stored; re-export the model or reload.`,
        );
      }
      await partial.append(chunk.value);
      progress.advance(chunk.value.length);
      throwIfCancelled(signal);
    }
  } finally {
    reader.releaseLock();
  }
  if (partial.bytesWritten !== file.bytes) {
    throw new ModelFileError(
      `The download of ${file.path} stopped at ${partial.bytesWritten} of ${file.bytes} bytes. Retry to continue.`,
    );
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new CancelledError('The model download was cancelled; it resumes where it stopped.');
}
