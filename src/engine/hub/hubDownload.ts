/**
 * Downloads one file of a model hub into storage, resumably: `<base>/<repo>/resolve/<revision>/<file>` (the Hugging
 * Face layout; the hub answers with a redirect to its CDN, which `fetch` follows, and serves it with CORS and Range).
 * The size comes from the first answer (a one-byte Range request); no checksum is known in advance, so the
 * builder checks the file by its header, its shapes and the probe.
 */
import { CancelledError, ModelFileError, describeError } from '../errors';
import { receive, type RangeFetch } from '../modelDownload';
import { storageFullError, type ModelStore } from '../modelStore';
import { ProgressMeter, type TransferProgress } from '../transferProgress';

export interface HubFile {
  repo: string;
  revision: string;
  file: string;
}

/** The URL of `file` on the hub at `baseUrl` (default https://huggingface.co). */
export function hubFileUrl(baseUrl: string, { repo, revision, file }: HubFile): string {
  const base = baseUrl.replace(/\/+$/, '');
  const path = [...repo.split('/'), 'resolve', revision, ...file.split('/')].map(encodeURIComponent);
  return `${base}/${path.join('/')}`;
}

/** The file's total size from the hub's answer to a one-byte Range request (or a whole-file 200). */
async function remoteSize(url: string, fetchFn: RangeFetch, signal?: AbortSignal): Promise<number> {
  let response: Response;
  try {
    response = await fetchFn(url, { headers: { Range: 'bytes=0-0' }, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throw new CancelledError('The download was cancelled; it resumes where it stopped.');
    throw new ModelFileError(
      `Could not reach the model hub for ${url} (${describeError(error)}). Check the connection.`,
    );
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status === 401 || response.status === 403 || response.status === 404) {
    throw new ModelFileError(
      `The model hub has no file at ${url} (HTTP ${response.status}). Check the hub address in Models.`,
    );
  }
  if (!response.ok) throw new ModelFileError(`The model hub answered HTTP ${response.status} for ${url}.`);
  const total =
    response.status === 206
      ? /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '')?.[1]
      : response.headers.get('content-length');
  const bytes = Number(total);
  if (!total || !Number.isSafeInteger(bytes) || bytes <= 8) {
    throw new ModelFileError(
      `The model hub did not say how large ${url} is, so it cannot be downloaded in parts.`,
    );
  }
  return bytes;
}

/**
 * Stores the hub file under (`storeId`, `file.file`), resuming the partial an earlier attempt left. A file already
 * committed is not fetched again. @returns its size.
 */
export async function downloadHubFile(
  url: string,
  hubFile: HubFile,
  store: ModelStore,
  storeId: string,
  fetchFn: RangeFetch,
  onProgress: (progress: TransferProgress) => void,
  now: () => number,
  signal?: AbortSignal,
): Promise<number> {
  const path = hubFile.file;
  const info = await store.fileInfo(storeId, path);
  if (info.committedBytes !== null) {
    onProgress({
      file: path,
      stage: 'download',
      loaded: info.committedBytes,
      total: info.committedBytes,
      bytesPerSecond: 0,
      secondsLeft: 0,
    });
    return info.committedBytes;
  }
  const bytes = await remoteSize(url, fetchFn, signal);
  const space = await store.estimate().catch(() => null);
  const needed = bytes - (info.partialBytes ?? 0);
  if (space && needed > space.quota - space.usage) {
    throw storageFullError(path, needed, space);
  }
  const progress = new ProgressMeter(bytes, now, onProgress);
  const partial = await store.beginWrite(storeId, path, bytes);
  progress.startFile(path, partial.bytesWritten);
  try {
    if (partial.bytesWritten < bytes) {
      await receive(url, { path, bytes, sha256: '' }, partial, fetchFn, progress, signal);
    }
    await partial.commit();
  } catch (error) {
    await partial.close().catch(() => undefined);
    throw error;
  }
  return bytes;
}
