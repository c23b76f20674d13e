/**
 * Downloads one file of a model hub into storage, as a web page can on the public Hugging Face hub (issues #9, #16).
 *
 * What the hub does, and what a page can see of it:
 * - `<base>/<repo>/resolve/<revision>/<file>` answers `302` to a CDN on another origin (the Xet bridge, CloudFront)
 *   with a signed address that expires (`Expires=` in its query). `fetch` follows the redirect without showing the
 *   `302`'s own headers (`X-Linked-Size`, `X-Linked-Etag`), so the file's size and sha256 come from the hub's JSON
 *   file list (`/api/models/<repo>/tree/<revision>`: each file's `size` and LFS `oid`, its sha256), or from the recipe,
 *   or from the `Content-Length` of a whole-file answer.
 * - The CDN may refuse CORS preflights: only simple requests go to it (a GET, at most one `Range: bytes=N-`, which
 *   browsers send without a preflight since Chrome 99, Firefox 117 and Safari 16, and no other header).
 * - The CDN may not expose `Content-Range` (a 206 is then trusted to start where it was asked to), may ignore `Range`
 *   (a 200 is the whole file: the bytes already stored are skipped from the stream, never appended twice), and its
 *   signed address may expire mid-download (a 401/403/410 from the remembered CDN address sends the next try back to
 *   the hub for a fresh redirect).
 * - The hub may be busy (429/503 with `Retry-After`) and connections may break: the download waits (Retry-After when
 *   the page can read it, capped; else 1, 2, 4, 8 s), says so in the progress `file` text, and tries again from the
 *   bytes stored, up to `maxTries` tries in a row that bring no new byte. A Range request that fails outright twice in
 *   a row stops using Range (an older browser's preflight may be what fails) and the file comes whole, skipping what
 *   is stored.
 *
 * A cancel keeps exactly what was written: the partial is closed (flushed) before the CancelledError leaves, and its
 * message quotes the size the store reports for it. With a sha256 known, the file is verified before it is committed:
 * a mismatch deletes the bytes and says so.
 */
import { sha256 as sha256Hasher } from '@noble/hashes/sha2.js';
import { CancelledError, ModelFileError, describeError } from '../../core/errors';
import type { RangeFetch } from '../library/modelDownload';
import { formatBytes } from '../../core/format';
import { storageFullError, type ModelStore, type PartialFile } from '../storage/modelStore';
import { ProgressMeter, type TransferProgress } from '../library/transferProgress';

export interface HubFile {
  repo: string;
  revision: string;
  file: string;
  /** Size and sha256 of the file when the recipe records them (used when the hub's file list cannot be read). */
  bytes?: number;
  sha256?: string;
}

/** What is known of the file before its download: size and sha256 (hex), and where they came from. */
export interface HubFileFacts {
  bytes: number | null;
  sha256: string | null;
  source: string;
}

export interface HubDownloadOptions {
  onProgress: (progress: TransferProgress) => void;
  now: () => number;
  signal?: AbortSignal;
  /** Tries in a row that bring no new byte before the download gives up (default MAX_TRIES). */
  maxTries?: number;
  /** Waits `ms` (tests pass a fake clock); rejects when `signal` aborts. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface HubDownloadResult {
  bytes: number;
  /** sha256 (hex) of the stored file when it was hashed here (always after a download), else null. */
  sha256: string | null;
}

export const MAX_TRIES = 5;
/** The longest a Retry-After is honoured for, in seconds (a hub asking for more is treated as down). */
export const MAX_RETRY_AFTER_S = 60;

/** The URL of `file` on the hub at `baseUrl` (default https://huggingface.co). */
export function hubFileUrl(baseUrl: string, { repo, revision, file }: HubFile): string {
  const path = [...repo.split('/'), 'resolve', revision, ...file.split('/')].map(encodeURIComponent);
  return `${trimBase(baseUrl)}/${path.join('/')}`;
}

/** The hub's JSON list of the files in `file`'s folder (a plain GET: no preflight). */
export function hubTreeUrl(baseUrl: string, { repo, revision, file }: HubFile): string {
  const folder = file.split('/').slice(0, -1);
  const path = ['api', 'models', ...repo.split('/'), 'tree', revision, ...folder].map((part) =>
    part === 'api' || part === 'models' || part === 'tree' ? part : encodeURIComponent(part),
  );
  return `${trimBase(baseUrl)}/${path.join('/')}`;
}

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const trimBase = (baseUrl: string) => baseUrl.replace(/\/+$/, '');

/**
 * Size and sha256 of the file from the hub's file list (an entry's `lfs.size` / `size` and `lfs.oid`), else what the
 * recipe records. A list that cannot be read is not an error: the download then learns the size from its answer.
 */
export async function hubFileFacts(
  baseUrl: string,
  hubFile: HubFile,
  fetchFn: RangeFetch,
  signal?: AbortSignal,
): Promise<HubFileFacts> {
  const fromRecipe: HubFileFacts = {
    bytes: isSize(hubFile.bytes) ? hubFile.bytes : null,
    sha256: isSha256(hubFile.sha256) ? hubFile.sha256 : null,
    source: 'the build recipe',
  };
  let entries: unknown;
  try {
    const response = await fetchFn(hubTreeUrl(baseUrl, hubFile), signal ? { signal } : {});
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return fromRecipe;
    }
    entries = await response.json();
  } catch {
    throwIfCancelled(signal);
    return fromRecipe;
  }
  if (!Array.isArray(entries)) return fromRecipe;
  const entry = (entries as Record<string, unknown>[]).find(
    (e) => typeof e === 'object' && e !== null && e.type === 'file' && e.path === hubFile.file,
  );
  if (!entry) return fromRecipe;
  const lfs = (typeof entry.lfs === 'object' && entry.lfs !== null ? entry.lfs : {}) as Record<
    string,
    unknown
  >;
  const bytes = isSize(lfs.size) ? lfs.size : isSize(entry.size) ? entry.size : null;
  const sha256 = isSha256(lfs.oid) ? lfs.oid : null;
  return {
    bytes: bytes ?? fromRecipe.bytes,
    sha256: sha256 ?? fromRecipe.sha256,
    source: "the hub's file list",
  };
}

const isSize = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
const isSha256 = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('The download was cancelled; it resumes where it stopped.');
}

function defaultWait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('The download was cancelled; it resumes where it stopped.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds a 429/503 asks the client to wait (delta-seconds or an HTTP date), when the page can read it. */
export function retryAfterSeconds(response: Response, nowMs: number = Date.now()): number | null {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The first byte and total of a 206's Content-Range ('bytes 100-999/1000'), or null where it is not readable. */
function contentRange(response: Response): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range')?.trim() ?? '');
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) };
}

const host = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** SHA-256 (hex) of a blob, read in slices so a large file never sits in memory whole. */
export async function hashBlob(blob: Blob, signal?: AbortSignal): Promise<string> {
  const hash = sha256Hasher.create();
  const chunk = 16 << 20;
  for (let at = 0; at < blob.size; at += chunk) {
    throwIfCancelled(signal);
    hash.update(new Uint8Array(await blob.slice(at, Math.min(blob.size, at + chunk)).arrayBuffer()));
  }
  return Array.from(hash.digest(), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Stores the hub file under (`storeId`, `hubFile.file`), resuming the partial an earlier attempt left, retrying
 * within bounds what the hub and its CDN are known to do (see the module comment). A file already committed is kept
 * (checked against the listed sha256 when there is one).
 * @throws CancelledError on abort (the partial is kept, flushed); ModelFileError with the cause and what to do.
 */
export async function downloadHubFile(
  baseUrl: string,
  hubFile: HubFile,
  store: ModelStore,
  storeId: string,
  fetchFn: RangeFetch,
  options: HubDownloadOptions,
): Promise<HubDownloadResult> {
  const { signal, onProgress, now } = options;
  const wait = options.wait ?? defaultWait;
  const maxTries = options.maxTries ?? MAX_TRIES;
  const path = hubFile.file;
  const hubUrl = hubFileUrl(baseUrl, hubFile);
  const facts = await hubFileFacts(baseUrl, hubFile, fetchFn, signal);

  const stored = await keptCommitted(store, storeId, path, facts, onProgress, signal);
  if (stored) return stored;

  let bytes = facts.bytes;
  let partial: PartialFile | null = null;
  let progress: ProgressMeter | null = null;
  /** The CDN address the hub last redirected to (signed; it expires): later tries go straight to it. */
  let cdnUrl: string | null = null;
  let useRange = true;
  let rangeErrors = 0;
  /** Tries in a row that brought no new byte. */
  let failures = 0;
  let waitedSeconds = 0;
  let refreshes = 0;
  /** Bytes a partial from an earlier attempt holds (0 while the size is unknown: the file then comes whole). */
  let resumable = 0;

  /** Checks the free storage for a file of `size`; @returns the bytes an earlier partial lets us skip. */
  const checkSpace = async (size: number) => {
    const info = await store.fileInfo(storeId, path);
    const space = await store.estimate().catch(() => null);
    const kept = info.partialBytes !== null && info.partialBytes <= size ? info.partialBytes : 0;
    if (space && size - kept > space.quota - space.usage) {
      throw storageFullError(path, size - kept, space);
    }
    return kept;
  };
  // The partial is opened when the first bytes can be written, so a download that never got an answer leaves
  // nothing in storage (no "Resume" for nothing).
  const open = async (size: number) => {
    resumable = await checkSpace(size);
    const opened = await store.beginWrite(storeId, path, size);
    const meter = new ProgressMeter(size, now, onProgress);
    meter.startFile(path, opened.bytesWritten);
    return [opened, meter] as const;
  };
  const say = (text: string) =>
    onProgress({
      file: text,
      stage: 'download',
      loaded: partial?.bytesWritten ?? resumable,
      total: bytes ?? 0,
      bytesPerSecond: 0,
      secondsLeft: null,
    });
  /** Counts a try that brought nothing; waits before the next, or gives up after `maxTries`. */
  const failedTry = async (why: string, seconds: number | null, busy: boolean) => {
    failures++;
    if (failures >= maxTries) {
      const kept = partial?.bytesWritten ?? resumable;
      const keptText =
        kept > 0
          ? `The ${formatBytes(kept)} downloaded so far are kept; building again continues from them.`
          : 'Nothing was stored.';
      throw new ModelFileError(
        sentence(
          busy
            ? `${why}, and still was after ${maxTries} tries over ${Math.round(waitedSeconds)} s. Try again later. ${keptText}`
            : `${why}; gave up after ${maxTries} tries. Check the connection, then build again. ${keptText}`,
        ),
      );
    }
    const delay = Math.min(MAX_RETRY_AFTER_S, seconds ?? 2 ** (failures - 1));
    say(sentence(`${why}. Retrying in ${delay} s (try ${failures + 1} of ${maxTries}).`));
    waitedSeconds += delay;
    await wait(delay * 1000, signal);
  };

  try {
    if (bytes !== null) resumable = await checkSpace(bytes);
    for (;;) {
      throwIfCancelled(signal);
      const offset = partial?.bytesWritten ?? resumable;
      if (bytes !== null && offset >= bytes) {
        if (!partial) [partial, progress] = await open(bytes);
        break;
      }
      const url: string = cdnUrl ?? hubUrl;
      const ranged = offset > 0 && useRange;
      let response: Response;
      try {
        response = await fetchFn(url, {
          ...(signal ? { signal } : {}),
          ...(ranged ? { headers: { Range: `bytes=${offset}-` } } : {}),
        });
      } catch (error) {
        throwIfCancelled(signal);
        // A request that fails outright: the connection, or a CORS refusal a page cannot tell from it (an expired
        // CDN address whose 403 carries no CORS headers; a preflight an older browser sends for Range).
        if (ranged && ++rangeErrors >= 2) useRange = false;
        const wasCdn = cdnUrl !== null;
        cdnUrl = null;
        await failedTry(
          `the download from ${host(url)} failed (${describeError(error)})`,
          wasCdn && failures === 0 ? 0 : null,
          false,
        );
        continue;
      }
      const fromCdn = url === cdnUrl;
      const where = host(response.url || url);
      const status = response.status;
      if (fromCdn && (status === 401 || status === 403 || status === 410)) {
        // The signed address expired: the hub gives a fresh one. Not a failed try unless it keeps happening.
        await response.body?.cancel().catch(() => undefined);
        cdnUrl = null;
        if (++refreshes > maxTries * 2) {
          throw new ModelFileError(
            `The hub's download server ${where} keeps refusing fresh download addresses (HTTP ${status}). Try again later.`,
          );
        }
        say(`The download address expired (HTTP ${status}); asking the hub for a fresh one.`);
        continue;
      }
      if (status === 429 || status === 502 || status === 503 || status === 504) {
        await response.body?.cancel().catch(() => undefined);
        const seconds = retryAfterSeconds(response);
        if (seconds !== null && seconds > MAX_RETRY_AFTER_S) {
          throw new ModelFileError(
            `The model hub is busy (HTTP ${status} from ${where}) and asks to wait ${seconds} s. Try again later.`,
          );
        }
        cdnUrl = null;
        await failedTry(`the model hub is busy (HTTP ${status} from ${where})`, seconds, true);
        continue;
      }
      if (status === 416 && ranged && bytes !== null) {
        await response.body?.cancel().catch(() => undefined);
        // The server cannot continue from the stored bytes: start the file over.
        if (!partial) [partial, progress] = await open(bytes);
        await partial.restart();
        progress?.startFile(path, 0);
        await failedTry(`${where} could not continue from byte ${offset} (HTTP 416)`, 0, false);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        if (status === 401 || status === 403 || status === 404) {
          throw new ModelFileError(
            `The model hub has no file at ${hubUrl} (HTTP ${status}${where === host(hubUrl) ? '' : ` from ${where}`}). ` +
              (status === 404
                ? 'Check the hub address in Models.'
                : 'The repository may need a sign-in the app cannot give; check the hub address in Models.'),
          );
        }
        throw new ModelFileError(`The model hub answered HTTP ${status} for ${hubUrl} (from ${where}).`);
      }
      if ((response.headers.get('content-type') ?? '').toLowerCase().includes('text/html')) {
        await response.body?.cancel().catch(() => undefined);
        throw new ModelFileError(
          `The model hub answered ${hubUrl} with a web page, not the file. Check the hub address in Models.`,
        );
      }
      if (response.url && response.url !== url && response.url !== hubUrl) cdnUrl = response.url;

      // Where this body starts in the file: a 200 is the whole file; a 206 starts where Content-Range says, or,
      // where the CDN does not expose Content-Range, where it was asked to (a 206 answers the one range asked).
      const range = status === 206 ? contentRange(response) : null;
      const start = status === 206 ? (range?.start ?? (ranged ? offset : 0)) : 0;
      if (bytes === null) {
        const length = Number(response.headers.get('content-length') ?? NaN);
        bytes = range?.total ?? (status === 200 && isSize(length) ? length : null);
        if (bytes === null) {
          await response.body?.cancel().catch(() => undefined);
          throw new ModelFileError(
            `The model hub did not say how large ${path} is: its file list (${hubTreeUrl(baseUrl, hubFile)}) ` +
              `could not be read and the download carries no readable Content-Length. Check the hub address in Models.`,
          );
        }
      }
      if (!partial) [partial, progress] = await open(bytes);
      const target = partial;
      const meter = progress!;
      if (start > target.bytesWritten) {
        // A gap between what is stored and what came: never write it; ask for the whole file instead.
        await response.body?.cancel().catch(() => undefined);
        useRange = false;
        await failedTry(`${where} answered from byte ${start}, not ${target.bytesWritten}`, 0, false);
        continue;
      }
      const before = target.bytesWritten;
      if (start < before) meter.startFile(path, before);
      const broke = await streamInto(response, target, before - start, bytes, meter, signal);
      if (target.bytesWritten > before) {
        failures = 0;
        rangeErrors = 0;
      }
      if (target.bytesWritten >= bytes) break;
      // The body ended early or the connection broke: continue from the bytes stored (at once after progress).
      const gained = target.bytesWritten > before;
      if (gained) {
        say(`The connection to ${where} broke; continuing from ${formatBytes(target.bytesWritten)}.`);
        continue;
      }
      await failedTry(`the connection to ${where} broke (${broke ?? 'the answer ended early'})`, null, false);
    }

    const done = partial;
    if (!done || bytes === null)
      throw new ModelFileError(`The download of ${path} ended with nothing stored.`);
    // Still the download step for the page (a 'verify' stage would show the build's Verifying step).
    say(`Checking ${path} against ${facts.sha256 ? `the sha256 in ${facts.source}` : 'its sha256'}…`);
    const digest = await hashBlob(await done.contents(), signal);
    if (facts.sha256 !== null && digest !== facts.sha256) {
      partial = null;
      await done.abort();
      throw new ModelFileError(
        `${path} does not match the sha256 in ${facts.source} (expected ${facts.sha256.slice(0, 12)}…, got ` +
          `${digest.slice(0, 12)}…): it was damaged on the way or changed on the hub. It was deleted; build again ` +
          `to download it anew.`,
      );
    }
    partial = null;
    await done.commit();
    return { bytes, sha256: digest };
  } catch (error) {
    // Close (flush) what was written; a partial that got no byte is removed, so storage lists nothing to resume.
    if (partial) await (partial.bytesWritten > 0 ? partial.close() : partial.abort()).catch(() => undefined);
    if (error instanceof CancelledError) {
      // What is kept is what the store now holds: the partial was closed (flushed) above.
      const info = await store.fileInfo(storeId, path).catch(() => null);
      const kept = info?.partialBytes ?? info?.committedBytes ?? 0;
      throw new CancelledError(
        `The download was cancelled; ${formatBytes(kept)} of ${path} (${kept} bytes) are kept and building again continues from them.`,
      );
    }
    throw error;
  }
}

/** A committed copy from an earlier build, if it is still the listed file (else it is deleted). */
async function keptCommitted(
  store: ModelStore,
  storeId: string,
  path: string,
  facts: HubFileFacts,
  onProgress: (progress: TransferProgress) => void,
  signal: AbortSignal | undefined,
): Promise<HubDownloadResult | null> {
  const { committedBytes } = await store.fileInfo(storeId, path);
  if (committedBytes === null) return null;
  const report = () =>
    onProgress({
      file: path,
      stage: 'download',
      loaded: committedBytes,
      total: committedBytes,
      bytesPerSecond: 0,
      secondsLeft: 0,
    });
  if (facts.bytes !== null && facts.bytes !== committedBytes) {
    await store.delete(storeId);
    return null;
  }
  if (facts.sha256 === null) {
    report();
    return { bytes: committedBytes, sha256: null };
  }
  report();
  const digest = await hashBlob(await store.readFile(storeId, path), signal);
  if (digest !== facts.sha256) {
    await store.delete(storeId);
    return null;
  }
  report();
  return { bytes: committedBytes, sha256: digest };
}

/**
 * Appends the body to the partial, first dropping `skip` bytes the partial already holds (a whole-file answer to a
 * resumed download). @returns null when the body ended, or why it broke off (bytes that did arrive are kept).
 * @throws CancelledError on abort; ModelFileError when the body is longer than the file.
 */
async function streamInto(
  response: Response,
  partial: PartialFile,
  skip: number,
  bytes: number,
  progress: ProgressMeter,
  signal: AbortSignal | undefined,
): Promise<string | null> {
  if (!response.body) return 'no body';
  const reader = response.body.getReader();
  let toSkip = skip;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throwIfCancelled(signal);
        return describeError(error);
      }
      if (chunk.done) return null;
      let data = chunk.value;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, data.length);
        toSkip -= dropped;
        data = data.subarray(dropped);
        if (data.length === 0) continue;
      }
      if (partial.bytesWritten + data.length > bytes) {
        // More bytes than the file has: this is another file, and what we have of it cannot be trusted.
        await partial.abort();
        throw new ModelFileError(
          `${partial.path} on the hub is larger than the ${bytes} bytes listed for it: it was replaced. ` +
            `What was downloaded was deleted; build again.`,
        );
      }
      await partial.append(data);
      progress.advance(data.length);
      throwIfCancelled(signal);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
