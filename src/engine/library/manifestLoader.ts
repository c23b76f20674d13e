/**
 * Fetches and validates a model manifest, and downloads the files it lists, checking each file's byte size and
 * sha256 before anything uses it (a truncated or swapped ONNX file must never reach a session).
 */
import { ManifestError, ModelFileError, describeError } from '../../core/errors';
import type { ManifestFile, ModelManifest } from '../../core/manifest';
import { validateManifest } from './manifestValidation';

/** The subset of `fetch` the loader needs; tests pass a fake. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

export type DownloadProgress = (loaded: number, total: number) => void;

/** A manifest together with the absolute URL it came from (file paths are relative to it). */
export interface LoadedManifest {
  manifest: ModelManifest;
  manifestUrl: string;
}

/**
 * Fetches `manifestUrl` (absolute) and validates it.
 * @throws ManifestError when it cannot be fetched, is not JSON, or has a bad field.
 */
export async function loadManifest(manifestUrl: string, fetchFn: FetchLike = fetch): Promise<LoadedManifest> {
  let response: Response;
  try {
    response = await fetchFn(manifestUrl);
  } catch (error) {
    throw new ManifestError(
      `Could not reach the model manifest at ${manifestUrl} (${describeError(error)}). Check the connection and the address.`,
    );
  }
  if (!response.ok) {
    throw new ManifestError(
      `Could not load the model manifest from ${manifestUrl} (HTTP ${response.status}). Check that the model is published there.`,
    );
  }
  if (isHtml(response)) {
    throw new ManifestError(
      `There is no model manifest at ${manifestUrl}: the server answered with a web page. Check the address.`,
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ManifestError(`The model manifest at ${manifestUrl} is not valid JSON.`);
  }
  return { manifest: validateManifest(json, manifestUrl), manifestUrl };
}

/** The absolute URL of a manifest file (its `path` is relative to the manifest's own URL). */
export function resolveModelFileUrl(manifestUrl: string, file: ManifestFile): string {
  return new URL(file.path, manifestUrl).href;
}

/**
 * Downloads one manifest file, reporting progress, and checks its byte size and sha256.
 * @throws ModelFileError when the download fails or the bytes are not the ones the manifest describes.
 */
export async function fetchVerified(
  url: string,
  file: ManifestFile,
  options: { fetch?: FetchLike; onProgress?: DownloadProgress; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchVerifiedOnce(url, file, options);
    } catch (error) {
      // A connection that broke is worth another GET (seen on a first visit in Chromium: the text graph fetched while
      // the service worker precaches the same file fails with net::ERR_CACHE_WRITE_FAILURE, 2 of 4 fresh profiles);
      // a wrong status, size or checksum is not.
      if (!(error instanceof InterruptedDownload) || attempt >= NETWORK_TRIES || options.signal?.aborted)
        throw error;
    }
  }
}

/** Tries for a served file whose connection breaks (the first plus two more). */
const NETWORK_TRIES = 3;

/** A fetch or body read that failed in the network, not on what the server sent. */
class InterruptedDownload extends ModelFileError {}

async function fetchVerifiedOnce(
  url: string,
  file: ManifestFile,
  options: { fetch?: FetchLike; onProgress?: DownloadProgress; signal?: AbortSignal },
): Promise<Uint8Array> {
  const fetchFn = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(url, options.signal ? { signal: options.signal } : undefined);
  } catch (error) {
    throw new InterruptedDownload(
      `Could not download ${file.path} (${describeError(error)}). Check the connection and retry.`,
    );
  }
  if (!response.ok) {
    throw new ModelFileError(`Could not download ${file.path} from ${url} (HTTP ${response.status}).`);
  }
  // Static hosts and dev servers answer a missing file with the app's index.html and status 200.
  if (isHtml(response) && !file.path.endsWith('.html')) {
    throw new ModelFileError(
      `${file.path} is missing on the server at ${url} (it answered with a web page).`,
    );
  }
  const bytes = await readBody(response, file, options.onProgress);
  const digest = await sha256Hex(bytes);
  if (digest !== file.sha256) {
    throw new ModelFileError(
      `${file.path} does not match the checksum in the manifest (sha256 ${digest.slice(0, 12)}…, expected ` +
        `${file.sha256.slice(0, 12)}…): the file on the server was replaced or corrupted. Re-export the model or reload.`,
    );
  }
  return bytes;
}

function isHtml(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').toLowerCase().includes('text/html');
}

/** Lower-case hex SHA-256 of `bytes` (WebCrypto; available in workers and in Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Streams the body into a buffer of the size the manifest announces, failing as soon as the size is wrong. */
async function readBody(
  response: Response,
  file: ManifestFile,
  onProgress?: DownloadProgress,
): Promise<Uint8Array> {
  const sizeMismatch = (got: string) =>
    new ModelFileError(
      `${file.path} is ${got} bytes but the manifest says ${file.bytes}: the download was cut short or the file ` +
        `was replaced. Reload to try again.`,
    );
  const buffer = new Uint8Array(file.bytes);
  onProgress?.(0, file.bytes);
  if (!response.body) {
    const whole = new Uint8Array(await response.arrayBuffer());
    if (whole.length !== file.bytes) throw sizeMismatch(String(whole.length));
    onProgress?.(whole.length, file.bytes);
    return whole;
  }
  const reader = response.body.getReader();
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (loaded + value.length > file.bytes) {
        await reader.cancel();
        throw sizeMismatch(`more than ${file.bytes}`);
      }
      buffer.set(value, loaded);
      loaded += value.length;
      onProgress?.(loaded, file.bytes);
    }
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    throw new InterruptedDownload(
      `The download of ${file.path} was interrupted (${describeError(error)}). Retry.`,
    );
  }
  if (loaded !== file.bytes) throw sizeMismatch(String(loaded));
  return buffer;
}
